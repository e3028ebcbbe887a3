"""`monitor run --distributed`: the scheduler role, one active at a time.

The active scheduler is the daemon (monitor.daemon) with its checks sent to the
queue instead of run in-process, and its due times in a Redis sorted set
(monitor.cluster.state.DueSet) instead of the process's heap: a standby that takes
over starts sending at once, from the due times the last scheduler left.

Which scheduler is active is decided by a PostgreSQL advisory lock held, session-
level, on a connection of its own: a scheduler that dies, or whose machine vanishes,
loses its session and so the lock (TCP keepalives make the server notice a vanished
machine within seconds), and a standby polling every few seconds takes over. An
active scheduler that loses its lock connection stops scheduling at once and becomes
a standby.

The lock is there to keep the queue lean, not to keep the log right: if two
schedulers were ever active together (for the few seconds before one notices it
lost its connection), each source would be checked twice, which records nothing
twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from monitor.cluster import metrics
from monitor.cluster.broker import queue_depth
from monitor.cluster.settings import libpq_url
from monitor.cluster.tasks import Cluster
from monitor.daemon import Daemon, stop_on_signals
from monitor.store import EventStore

log = logging.getLogger("monitor.cluster")

POLL_SECONDS = 3.0  # a standby tries the lock, an active scheduler checks it, this often
HEARTBEAT_TTL = 15.0
# A scheduler that took over forgets the "queued" marks of checks due this far back: the
# last scheduler died at most some 15 s ago (lost session, then a standby's poll), and a
# mark it made but never sent is for a check due shortly before.
TAKEOVER_WINDOW = 60.0
# Server side: notice a vanished client machine in 5 + 3 * 2 = 11 s and end its session.
_SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2",
                      "SET tcp_keepalives_count = 3")


def lock_key(namespace: str) -> int:
    """The advisory lock's 64-bit key: one per cluster namespace and database."""
    digest = hashlib.blake2b(f"govkz-monitor scheduler {namespace}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class SchedulerLock:
    """A session-level pg_try_advisory_lock on a dedicated connection."""

    def __init__(self, database_url: str, key: int) -> None:
        self.conninfo = libpq_url(database_url)
        self.key = key
        self.conn: Any = None

    def try_acquire(self) -> bool:
        import psycopg

        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(
                    self.conninfo, autocommit=True, connect_timeout=5, keepalives=1,
                    keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
                    tcp_user_timeout=10_000, application_name="monitor scheduler")
                for statement in _SERVER_KEEPALIVES:
                    self.conn.execute(statement)
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            return bool(row and row[0])
        except psycopg.Error as exc:
            log.warning("scheduler lock: cannot reach PostgreSQL: %s", _first_line(exc))
            self.close()
            return False

    def still_held(self) -> bool:
        """False once the lock's connection is gone (and with it the lock)."""
        import psycopg

        if self.conn is None or self.conn.closed:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error as exc:
            log.error("scheduler lock: connection lost: %s", _first_line(exc))
            self.close()
            return False

    def close(self) -> None:
        """End the session, which releases the lock."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is gone either way
                conn.close()


@dataclass
class SchedulerRole:
    """Standby until the lock is ours, then the daemon, sending checks to the queue."""

    store: EventStore
    cluster: Cluster
    database_url: str
    threads: int = 4
    poll: float = POLL_SECONDS
    stopping: threading.Event = field(default_factory=threading.Event)
    scheduler_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _lost: bool = field(default=False, init=False, repr=False)

    def run(self) -> int:
        lock = SchedulerLock(self.database_url, lock_key(self.cluster.settings.namespace))
        waiting_logged = False
        try:
            while not self.stopping.is_set():
                self._install_signal_handlers()
                if not lock.try_acquire():
                    if not waiting_logged:
                        log.info("standby: another scheduler holds the lock; trying every "
                                 "%.0f s", self.poll)
                        waiting_logged = True
                    self.stopping.wait(self.poll)
                    continue
                waiting_logged = False
                if not self._active(lock):
                    return 0
                log.error("lost the scheduler lock: scheduling stopped; standing by")
                lock.close()
            return 0
        finally:
            lock.close()

    def _active(self, lock: SchedulerLock) -> bool:
        """Schedule until a signal (False) or until the lock is lost (True)."""
        since = time.time()
        log.info("active scheduler %s", self.scheduler_id)
        metrics.scheduler_gauges().active.set(1)
        self._beat(since)
        try:  # marks the last scheduler may have left without sending (state.py)
            dropped = self.cluster.state.forget_queued(since - TAKEOVER_WINDOW)
            if dropped:
                log.info("%d checks marked queued by the last scheduler may be sent again",
                         dropped)
        except Exception as exc:  # Redis away: its marks age out (stale_after) instead
            log.warning("could not clear the queued marks: %s", exc)
        dispatch = self.cluster.send_alert_run if self.cluster.config.alerts else None
        daemon = Daemon(self.store, None, self.threads, dispatch=dispatch, send=self._submit,
                        dispatch_seconds=self.cluster.config.dispatch_every,
                        due=self.cluster.state.due_times())
        self._lost = False
        threading.Thread(target=self._watch, args=(lock, daemon, since), name="scheduler-lock",
                         daemon=True).start()
        try:
            daemon.run()  # returns once daemon.stopping is set: by a signal, or by _watch
        finally:
            metrics.scheduler_gauges().active.set(0)
            try:
                self.cluster.state.scheduler_gone(self.scheduler_id)
            except Exception as exc:
                log.warning("could not clear the scheduler heartbeat: %s", exc)
        if not self._lost:
            self.stopping.set()
        return self._lost

    def _watch(self, lock: SchedulerLock, daemon: Daemon, since: float) -> None:
        while not daemon.stopping.wait(self.poll):
            if not lock.still_held():
                self._lost = True
                daemon.stopping.set()
                return
            self._beat(since)

    def _beat(self, since: float) -> None:
        info = {"id": self.scheduler_id, "host": socket.gethostname(), "pid": os.getpid(),
                "since": since, "seen": time.time()}
        try:
            self.cluster.state.scheduler_beat(info, HEARTBEAT_TTL)
            depth = queue_depth(self.cluster.broker, self.cluster.settings.checks_queue)
            metrics.scheduler_gauges().queue_depth.set(depth.ready)
        except Exception as exc:  # Redis away: the sends fail too, and say so
            log.warning("scheduler heartbeat failed: %s", exc)

    def _submit(self, source: str, due_at: float | None = None) -> None:
        try:
            self.cluster.send_check(source, due_at)
        except Exception as exc:
            log.warning("could not queue the check of %s: %s", source, _first_line(exc))

    def _install_signal_handlers(self) -> None:
        stop_on_signals(self.stopping)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
