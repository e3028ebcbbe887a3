"""`monitor status` on one machine: the daemons' heartbeats and each source's last
check, next due time and state, read from the store alone.

Next due is not read from the daemon (its due times live in memory, and writing them
would cost a write per check): it is the last check plus the interval. The daemon sets
the next check at the last one's due time plus the interval, jittered by at most
min(30 s, interval / 20) either way, and the ledger's time is the check's end, so the
figure is "about" and never early by more than that jitter. A source never checked is
due when a running daemon took it up (its start, or the source's registration after).

Late: due more than LATE_AFTER (or a tenth of the interval, if longer) ago while a daemon
beats. Without a running daemon nothing is late, only overdue: nothing checks on a
schedule (a cron `check --all` is judged by its own log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from monitor.evidence.ledger import OUTCOME_NAMES, moment
from monitor.heartbeat import DaemonBeat, pid_alive, read_beats
from monitor.store.schema import check_ledger, check_sources, sources

LATE_AFTER = timedelta(minutes=2)
UNSCHEDULED = ("paused", "removed")


@dataclass(frozen=True)
class SourceStatus:
    name: str
    state: str  # active | paused | failing | gone
    interval_seconds: int
    last_checked: datetime | None  # naive UTC, as the store keeps moments
    last_outcome: str | None  # unchanged | new version | failed (the ledger's words)
    next_due: datetime | None  # about; None: not scheduled, or not yet taken up
    late_by: timedelta | None  # past its due time and the allowance, a daemon running
    failures: int
    failing_since: datetime | None
    last_failure: str | None

    @property
    def late(self) -> bool:
        return self.late_by is not None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "interval_seconds":
                self.interval_seconds, "last_checked": self.last_checked,
                "last_outcome": self.last_outcome, "next_due": self.next_due,
                "late": self.late, "late_seconds": None if self.late_by is None else
                int(self.late_by.total_seconds()), "failures": self.failures,
                "failing_since": self.failing_since, "last_failure": self.last_failure}


@dataclass(frozen=True)
class DaemonStatus:
    beat: DaemonBeat
    running: bool

    def as_dict(self, now: datetime) -> dict[str, Any]:
        b = self.beat
        return {"id": b.daemon_id, "host": b.host, "pid": b.pid, "version": b.version,
                "running": self.running, "started_at": b.started_at, "beat_at": b.beat_at,
                "beat_age_seconds": round((now - b.beat_at).total_seconds(), 1),
                "stopped_at": b.stopped_at, "workers": b.workers, "scheduled": b.scheduled,
                "in_flight": b.in_flight, "checks": b.checks, "last_check_at": b.last_check_at}


@dataclass(frozen=True)
class LocalStatus:
    at: datetime  # naive UTC
    daemons: list[DaemonStatus]  # running first, then the latest beat first
    sources: list[SourceStatus]  # failing first, then late, then by name
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def running(self) -> list[DaemonStatus]:
        return [d for d in self.daemons if d.running]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "daemon_running": bool(self.running),
                "daemons": [d.as_dict(self.at) for d in self.daemons],
                "counts": self.counts, "sources": [s.as_dict() for s in self.sources]}


def gather(engine: Engine, now: datetime, *, scheduling: bool | None = None,
           alive: Callable[[str, int], bool | None] = pid_alive) -> LocalStatus:
    """The status at `now` (naive UTC). `scheduling`: whether something schedules the
    checks (a cluster's scheduler); None: a daemon's fresh heartbeat says so."""
    daemons = [DaemonStatus(b, b.running(now, alive)) for b in read_beats(engine)]
    daemons.sort(key=lambda d: not d.running)  # stable: the latest beat first within each
    running = [d.beat for d in daemons if d.running]
    if scheduling is None:
        scheduling = bool(running)
    taken_up = min((b.started_at for b in running), default=None)
    found = [_source(row, now, scheduling, taken_up) for row in _rows(engine)]
    found.sort(key=lambda s: (s.state != "failing", not s.late, s.name))
    counts = {"sources": len(found)}
    for state in ("active", "paused", "failing", "gone"):
        counts[state] = sum(1 for s in found if s.state == state)
    counts["late"] = sum(1 for s in found if s.late)
    counts["never_checked"] = sum(1 for s in found if s.last_checked is None)
    return LocalStatus(now, daemons, found, counts)


def _rows(engine: Engine) -> list[Any]:
    """Every source but the removed, with its last check: one query, each source's
    last ledger row found by one backward seek of the (source, at) index."""
    recent = check_ledger.alias("recent")
    latest = (select(recent.c.id).where(recent.c.source == check_sources.c.no)
              .order_by(recent.c.at.desc(), recent.c.id.desc()).limit(1)
              .correlate(check_sources).scalar_subquery())
    joined = (sources.outerjoin(check_sources, check_sources.c.stream_id == sources.c.stream_id)
              .outerjoin(check_ledger, check_ledger.c.id == latest))
    query = (select(sources.c.name, sources.c.state, sources.c.interval_seconds,
                    sources.c.registered_at, sources.c.failures, sources.c.failing_since,
                    sources.c.last_failure, check_ledger.c.at, check_ledger.c.outcome)
             .select_from(joined).where(sources.c.state != "removed"))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _source(row: Any, now: datetime, scheduling: bool,
            taken_up: datetime | None) -> SourceStatus:
    last = moment(row.at) if row.at is not None else None
    stored = row.interval_seconds  # a record written before intervals were checked: 0
    interval = stored if isinstance(stored, int) and not isinstance(stored, bool) else 0
    next_due: datetime | None = None
    if row.state not in UNSCHEDULED and interval > 0:
        if last is not None:
            next_due = last + timedelta(seconds=interval)
        elif taken_up is not None:
            next_due = max(taken_up, row.registered_at)
    late_by = None
    if scheduling and next_due is not None:
        allowance = max(LATE_AFTER, timedelta(seconds=interval / 10))
        if now - next_due > allowance:
            late_by = now - next_due
    failing = row.state == "failing"  # paused while failing: paused; gone: confirmed removed
    return SourceStatus(
        name=row.name, state=row.state, interval_seconds=interval, last_checked=last,
        last_outcome=OUTCOME_NAMES.get(row.outcome) if row.outcome is not None else None,
        next_due=next_due, late_by=late_by, failures=row.failures,
        failing_since=row.failing_since if failing else None,
        last_failure=row.last_failure if failing else None)
