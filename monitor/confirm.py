"""Confirmed changes: a change is read again after a delay before it alerts.

A source (`confirm` in `[[sources]]`, `[defaults]` or `monitor add --confirm`) or a
channel (`confirm` in `[[alerts]]`) may ask for it. The delay of a source's changes
is the longest of its own `confirm` and that of every channel that takes its changes:
the daemon reads the page again once, that long after the change was recorded.

The re-check is an ordinary check: it records whatever it sees (nothing, a further
change, or the change back, B→A, as one more ChangeDetected). Then a ChangeRechecked
event in the document's stream says what became of the change, decided from the log
alone (`decide`): the first change recorded after it that leads back to the text
before it (A→B→A) makes it `reverted`; any other change after it `changed_again`;
none `confirmed` (or `unchecked` when the re-check could not read the page). Nothing
is dropped from the record: both changes stay as they were recorded.

Pending confirmations survive a restart: on start the daemon reads the changes of
the last day (the longest delay) that have no ChangeRechecked yet, and re-checks
each at its time, or at once when that has passed (but not past `GRACE`, when the
dispatcher has settled it by itself; see monitor.alerts.confirmation).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from monitor.config import Config
from monitor.errors import ConcurrencyConflict
from monitor.events import ChangeRechecked
from monitor.store import EventStore
from monitor.store.eventstore import utcnow
from monitor.store.schema import events, sources
from monitor.validation import MAX_CONFIRM, parse_confirm

log = logging.getLogger("monitor.confirm")

OUTCOMES = ("confirmed", "reverted", "changed_again", "unchecked")
# After its delay, how long a change may wait for its re-check (a slow fetch, a daemon
# restarting) before the dispatcher settles it from the log by itself.
GRACE = 300.0
# Check outcomes (monitor.check.CheckResult) after which the page was read.
READ_OUTCOMES = frozenset({"unchanged", "captured", "changed"})
_WATCHED = ("ChangeDetected", "ChangeRechecked")


@dataclass(frozen=True)
class ConfirmPlan:
    """Who asks for confirmation, read from the configuration."""

    default: float = 0.0  # [defaults] confirm
    channels: tuple[tuple[str, tuple[str, ...], float], ...] = ()  # name, source globs, confirm

    @classmethod
    def of(cls, config: Config) -> ConfirmPlan:
        """Read leniently: a bad value is the dispatcher's to report, at start-up."""
        channels = []
        for alert in config.alerts:
            settings = alert.settings
            events_ = settings.get("events", ("changed",))
            if "changed" not in (events_ if isinstance(events_, list | tuple) else (events_,)):
                continue
            try:
                delay = parse_confirm(settings.get("confirm", 0))
            except ValueError:
                continue
            globs = settings.get("sources", ["*"])
            globs = [globs] if isinstance(globs, str) else globs
            if delay and isinstance(globs, list):
                channels.append((alert.name, tuple(str(g) for g in globs), delay))
        return cls(config.default_confirm, tuple(channels))

    def source_delay(self, options: Mapping[str, Any] | None) -> float:
        own = (options or {}).get("confirm")
        return float(own) if isinstance(own, int | float) else self.default

    def channel_delay(self, channel: str, source: str) -> float:
        return max((delay for name, globs, delay in self.channels if name == channel
                    and any(fnmatch.fnmatchcase(source, g) for g in globs)), default=0.0)

    def delay(self, source: str, options: Mapping[str, Any] | None) -> float:
        """When the source's changes are read again: the longest delay asked for."""
        wanted = [delay for _, globs, delay in self.channels
                  if any(fnmatch.fnmatchcase(source, g) for g in globs)]
        return max([self.source_delay(options), *wanted])


@dataclass(frozen=True)
class Decision:
    outcome: str  # one of OUTCOMES
    by: str | None = None  # the ChangeDetected that reverted it or changed it again


def decide(change: Mapping[str, Any], later: Iterable[Any]) -> Decision | None:
    """What became of `change` (a ChangeDetected's data), from the events of its stream
    recorded after it (rows with `type`, `data`, `event_id`, in order); None when no
    change came after it."""
    for row in later:
        if row.type != "ChangeDetected":
            continue
        data = row.data
        if data["from_hash"] == change["to_hash"] and data["to_hash"] == change["from_hash"]:
            return Decision("reverted", row.event_id)
        return Decision("changed_again", row.event_id)
    return None


def events_after(conn: Connection, stream_id: str, version: int,
                 until: datetime | None = None) -> list[Any]:
    """The ChangeDetected and ChangeRechecked events of a stream after `version`."""
    query = (select(events.c.event_id, events.c.position, events.c.version, events.c.type,
                    events.c.data, events.c.recorded_at)
             .where(events.c.stream_id == stream_id, events.c.version > version,
                    events.c.type.in_(_WATCHED))
             .order_by(events.c.version))
    if until is not None:
        query = query.where(events.c.recorded_at <= until)
    return list(conn.execute(query))


def recheck_of(rows: Iterable[Any], change_id: str) -> Any | None:
    """The ChangeRechecked of `change_id` among `rows`, if there is one."""
    return next((r for r in rows if r.type == "ChangeRechecked"
                 and r.data.get("change_id") == change_id), None)


@dataclass(frozen=True)
class Pending:
    """A change waiting for its re-check."""

    event_id: str
    stream_id: str
    version: int
    recorded_at: datetime  # UTC, naive as in the store
    delay: float

    @property
    def due_at(self) -> datetime:
        return self.recorded_at + timedelta(seconds=self.delay)


class Confirmations:
    """The daemon's side: finds changes to re-check, and records what became of them."""

    def __init__(self, store: EventStore, plan: ConfirmPlan,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.plan = plan
        self.clock = clock
        self.position: int | None = None  # each change is read, and handed out, once

    def pending(self) -> list[Pending]:
        """Changes recorded since the last call that need a re-check; on the first call,
        those of the last day that have none yet (a restart loses none)."""
        now = self.clock()
        with self.store.engine.connect() as conn:
            last = int(conn.execute(select(func.max(events.c.position))).scalar() or 0)
            if self.position is None:
                since = now - timedelta(seconds=MAX_CONFIRM + GRACE)
                first = conn.execute(select(func.min(events.c.position))
                                     .where(events.c.recorded_at >= since)).scalar()
                self.position = int(first) - 1 if first is not None else last
            new = (events.c.position > self.position, events.c.position <= last)
            # A change's data (its texts) is not needed here; a re-check's is small.
            rows = list(conn.execute(
                select(events.c.event_id, events.c.stream_id, events.c.version,
                       events.c.recorded_at)
                .where(*new, events.c.type == "ChangeDetected").order_by(events.c.position)))
            settled = {data.get("change_id") for data in conn.execute(
                select(events.c.data).where(*new, events.c.type == "ChangeRechecked")).scalars()}
            options = {r.stream_id: r.options for r in conn.execute(
                select(sources.c.stream_id, sources.c.options)
                .where(sources.c.stream_id.in_({r.stream_id for r in rows})))}
        self.position = last
        found = []
        for row in rows:
            if row.event_id in settled:
                continue
            delay = self.plan.delay(row.stream_id, options.get(row.stream_id))
            if delay <= 0:
                continue
            pending = Pending(row.event_id, row.stream_id, row.version, row.recorded_at, delay)
            if now > pending.due_at + timedelta(seconds=GRACE):
                log.info("change %s of %s: its confirmation time passed while no daemon ran; "
                         "its alerts are settled from the log", row.event_id, row.stream_id)
                continue
            found.append(pending)
        return found

    def settle(self, pending: Pending, check_outcome: str | None, detail: str = "") -> Decision:
        """Record what became of a change after its re-check (`check_outcome` is the
        re-check's, None when it did not run). Once per change, however often called."""
        for _ in range(5):
            with self.store.engine.connect() as conn:
                later = events_after(conn, pending.stream_id, pending.version)
                change = conn.execute(select(events.c.data).where(
                    events.c.event_id == pending.event_id)).scalar_one()
                row = conn.execute(select(sources.c.stream_version, sources.c.content_hash)
                                   .where(sources.c.stream_id == pending.stream_id)).first()
            done = recheck_of(later, pending.event_id)
            if done is not None:
                return Decision(done.data["outcome"], done.data.get("by"))
            decision = decide(change, later)
            if decision is None:
                read = check_outcome in READ_OUTCOMES
                decision = Decision("confirmed" if read else "unchecked")
                if not read:
                    detail = detail or f"the re-check's outcome was {check_outcome or 'none'}"
            if row is None:
                return decision
            try:
                self.store.append(pending.stream_id, row.stream_version, [ChangeRechecked(
                    change_id=pending.event_id, outcome=decision.outcome,
                    delay_seconds=pending.delay, by=decision.by,
                    content_hash=row.content_hash, detail=detail[:300])])
            except ConcurrencyConflict:
                continue  # something was recorded meanwhile: decide again with it
            log.info("change %s of %s re-checked: %s", pending.event_id, pending.stream_id,
                     decision.outcome)
            return decision
        log.warning("change %s of %s: could not record its re-check (the stream kept "
                    "changing); its alerts are settled from the log", pending.event_id,
                    pending.stream_id)
        return Decision("unchecked")
