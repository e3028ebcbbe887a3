"""The daemon's heartbeat: a row of `daemon_heartbeats` rewritten every few seconds.

`monitor status` runs in another process, perhaps on another machine, with a read-only
store: the store is the one place both can reach, whether it is a SQLite file or a
PostgreSQL server. One small upsert every BEAT_SECONDS, never one per check: the write
lock is what bounds a SQLite store's checks per second (bench/RESULTS.md, "One write
transaction a check"), and a beat costs it one short transaction every ten seconds.

A beat older than `stale_after` means the daemon is gone (killed, frozen, its machine
down); a clean stop writes `stopped_at`. Rows are ephemeral state: not part of the
record, not rebuilt from the log, and a daemon's start clears rows of daemons that
last beat more than a week ago.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from monitor import __version__
from monitor.store.database import WRITE
from monitor.store.eventstore import Clock, utcnow
from monitor.store.schema import daemon_heartbeats

log = logging.getLogger("monitor.daemon")

BEAT_SECONDS = 10
STALE_BEATS = 3  # beats missed before a daemon counts as gone
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Vitals:
    """What a daemon says of itself at each beat."""

    workers: int
    scheduled: int
    in_flight: int
    checks: int
    last_check_at: datetime | None  # naive UTC


@dataclass(frozen=True)
class DaemonBeat:
    """One daemon's row, as `monitor status` reads it."""

    daemon_id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    beat_at: datetime
    beat_every: int
    stopped_at: datetime | None
    workers: int
    scheduled: int
    in_flight: int
    checks: int
    last_check_at: datetime | None

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=max(30, STALE_BEATS * self.beat_every))

    def ahead(self, now: datetime) -> timedelta | None:
        """How far in the future the last beat is (the daemon's clock ahead of `now`'s
        by more than a stale window), or None: then whether it runs cannot be told."""
        lead = self.beat_at - now
        return lead if lead > self.stale_after else None

    def running(self, now: datetime, alive: Callable[[str, int], bool | None]) -> bool:
        """Beating, not stopped, and (when `alive` can tell: the same host) its pid
        still there, so a `kill -9` shows at once rather than a stale window later. A
        beat from the future (another machine's clock ahead) is not taken as running."""
        if (self.stopped_at is not None or now - self.beat_at > self.stale_after
                or self.ahead(now) is not None):
            return False
        return alive(self.host, self.pid) is not False


class Heartbeat:
    """Writes this process's row every `every` seconds, in a thread of its own."""

    def __init__(self, engine: Engine, vitals: Callable[[], Vitals], *,
                 every: int = BEAT_SECONDS, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.vitals = vitals
        self.every = every
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.daemon_id = f"{self.host}:{self.pid}"
        self.started_at = clock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> Heartbeat:
        self._forget_old()
        self.beat()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The last beat, marked stopped: `status` says "stopped", not "not beating"."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.beat(stopped=True)

    def beat(self, stopped: bool = False) -> None:
        """Write the row; a store in trouble is said once, and the daemon goes on."""
        now = self.clock()
        v = self.vitals()
        values = {"daemon_id": self.daemon_id, "host": self.host, "pid": self.pid,
                  "version": __version__, "started_at": self.started_at, "beat_at": now,
                  "beat_every": self.every, "stopped_at": now if stopped else None,
                  "workers": v.workers, "scheduled": v.scheduled, "in_flight": v.in_flight,
                  "checks": v.checks, "last_check_at": v.last_check_at}
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(daemon_heartbeats).values(values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["daemon_id"],
            set_={k: upsert.excluded[k] for k in values if k != "daemon_id"})
        try:
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(upsert)
        except Exception as exc:
            if not self._failing:
                log.warning("heartbeat not written (said once until it works again): %s",
                            " ".join(str(exc).split())[:300])
            self._failing = True
            return
        if self._failing:
            log.info("heartbeat written again")
        self._failing = False

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            self.beat()

    def _forget_old(self) -> None:
        cutoff = self.clock() - FORGET_AFTER
        try:
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(delete(daemon_heartbeats).where(  # a beat from far in the
                    (daemon_heartbeats.c.beat_at < cutoff)     # future: a clock set wrong
                    | (daemon_heartbeats.c.beat_at > self.clock() + FORGET_AFTER)))
        except Exception as exc:
            log.warning("old heartbeats not cleared: %s", " ".join(str(exc).split())[:300])


def read_beats(engine: Engine) -> list[DaemonBeat]:
    """Every daemon's row, the latest beat first."""
    with engine.connect() as conn:
        rows = conn.execute(select(daemon_heartbeats)
                            .order_by(daemon_heartbeats.c.beat_at.desc())).all()
    return [DaemonBeat(**row._mapping) for row in rows]


def pid_alive(host: str, pid: int) -> bool | None:
    """Whether `pid` runs, when `host` is this machine; None when it cannot be told."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or no pid this system has
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
