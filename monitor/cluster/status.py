"""`monitor status`: how the cluster is doing, from Redis, the broker and the store."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from monitor.cluster.broker import QueueDepth, queue_depth
from monitor.cluster.state import ClusterState
from monitor.moments import utc_iso
from monitor.store.schema import sources

RATE_MINUTES = 5
SEEN_SECONDS = 60.0
FAILING_SHOWN = 20


@dataclass(frozen=True)
class ClusterStatus:
    namespace: str
    broker: str  # redis | rabbitmq
    checks_queue: QueueDepth
    alerts_waiting: int
    scheduler: dict[str, Any] | None
    workers: list[dict[str, Any]]  # seen in the last minute
    minutes: list[dict[str, Any]]  # the last whole minutes, oldest first: {"minute", outcomes…}
    this_minute: dict[str, Any]  # the minute under way, so far
    failing_count: int
    failing: list[dict[str, Any]]  # the worst few: name, failures, last_failure
    queued_sources: int
    oldest_due: dict[str, Any] | None  # the check waiting longest: source, due_at, waiting
    at: float

    @property
    def checks_last_minute(self) -> int:
        return _total(self.minutes[-1]) if self.minutes else 0

    @property
    def checks_per_minute(self) -> float:
        return sum(_total(m) for m in self.minutes) / len(self.minutes) if self.minutes else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For machines: every moment (kept here as Unix seconds) in RFC 3339, UTC."""
        data = _moments_iso(asdict(self))
        data["checks_last_minute"] = self.checks_last_minute
        data["checks_this_minute"] = _total(self.this_minute)
        data[f"checks_per_minute_{RATE_MINUTES}m"] = round(self.checks_per_minute, 1)
        return data


def gather(cluster: Any, engine: Engine) -> ClusterStatus:
    """The status of the cluster `cluster` (a monitor.cluster.tasks.Cluster)."""
    now = time.time()
    state: ClusterState = cluster.state
    settings = cluster.settings
    workers = [w for w in state.workers() if now - float(w.get("seen", 0)) <= SEEN_SECONDS]
    oldest = state.oldest_queued()
    failing_count, failing = _failing(engine)
    minutes = [{"minute": minute, **counts}
               for minute, counts in state.minutes(RATE_MINUTES + 1, now + 60)]
    return ClusterStatus(
        namespace=settings.namespace,
        broker=settings.broker_kind,
        checks_queue=queue_depth(cluster.broker, settings.checks_queue),
        alerts_waiting=queue_depth(cluster.broker, settings.alerts_queue).ready,
        scheduler=state.scheduler(),
        workers=workers,
        minutes=minutes[:-1],
        this_minute=minutes[-1],
        failing_count=failing_count,
        failing=failing,
        queued_sources=state.queued(),
        oldest_due=None if oldest is None else {
            "source": oldest[0], "due_at": oldest[1], "waiting": round(now - oldest[1], 1)},
        at=now,
    )


def _failing(engine: Engine) -> tuple[int, list[dict[str, Any]]]:
    where = (sources.c.failures > 0) & (sources.c.state != "removed")
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(sources).where(where)).scalar()
        rows = conn.execute(
            select(sources.c.name, sources.c.failures, sources.c.last_failure, sources.c.state)
            .where(where).order_by(sources.c.failures.desc(), sources.c.name)
            .limit(FAILING_SHOWN)
        ).all()
    return int(count or 0), [dict(row._mapping) for row in rows]


def _total(minute: dict[str, Any]) -> int:
    return sum(v for k, v in minute.items() if k != "minute")


MOMENT_KEYS = frozenset({"at", "since", "seen", "started", "due_at", "minute"})


def _moments_iso(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _moments_iso(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_moments_iso(v, key) for v in value]
    if key in MOMENT_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return utc_iso(datetime.fromtimestamp(value, UTC))
    return value
