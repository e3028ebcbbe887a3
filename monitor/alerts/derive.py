"""From the log to alerts: which events are alerts, and what each one says.

ChangeDetected, DocumentPublished and DocumentRemoved are alerts as they
stand. "Source failing" is derived: a failure streak is the run of
FetchFailed events since the stream's last success; the FetchFailed that
first reaches `failing_after` since the streak began carries the alert, so a
streak raises it once per channel and a recovery starts a new streak.
Everything here is read from the log (and the sources projection for names);
nothing depends on when the dispatcher happens to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from monitor.alerts.alert import Alert
from monitor.alerts.policy import Policy
from monitor.changes.data import change_data, links
from monitor.changes.load import load_change
from monitor.errors import MonitorError
from monitor.events import (
    FAILURE_STREAK_ENDS,
    ChangeDetected,
    CheckpointSigned,
    DocumentPublished,
    DocumentRemoved,
    Event,
    FetchFailedEvent,
)
from monitor.evidence.alerting import checkpoint_alert
from monitor.evidence.alerting import summary as checkpoint_summary
from monitor.moments import utc_iso
from monitor.removal import removal_summary
from monitor.screenshots import version_ref
from monitor.store.eventstore import as_datetime
from monitor.store.mapper import to_data, to_event
from monitor.store.schema import events, sources
from monitor.untrusted import one_line

KIND_OF_TYPE = {
    "ChangeDetected": "changed",
    "DocumentPublished": "published",
    "DocumentRemoved": "removed",
    "FetchFailed": "failing",
    "CheckpointSigned": "checkpoint",
}
SIGNIFICANCE = {"published": "medium", "removed": "high", "failing": "high", "checkpoint": "low"}
# Events after which a stream is no longer failing (a removal is alerted itself).
MAX_MESSAGE = 300


@dataclass(frozen=True)
class Streak:
    """A FetchFailed seen as part of its failure streak."""

    started_at: datetime  # the streak's first failure
    previous_at: datetime | None  # the failure before this one, if any
    at: datetime  # this failure
    failures: int  # failures so far, this one included

    def crosses(self, threshold: float) -> bool:
        """This failure is the first of the streak at least `threshold` seconds in."""
        limit = self.started_at + timedelta(seconds=threshold)
        return self.at >= limit and (self.previous_at is None or self.previous_at < limit)

    @property
    def duration(self) -> timedelta:
        return self.at - self.started_at


@dataclass(frozen=True)
class Candidate:
    """An event that may become an alert, before the channels' filters."""

    event_id: str
    event_position: int
    stream_id: str
    kind: str
    source: str
    significance: str
    summary: str
    streak: Streak | None = None

    def wanted_by(self, policy: Policy) -> bool:
        if not policy.wants(self.kind, self.source, self.significance):
            return False
        return self.streak is None or self.streak.crosses(policy.failing_after)


def candidate(conn: Connection, row: Any) -> Candidate | None:
    """The alert an event row may carry, or None for events that are never alerts."""
    kind = KIND_OF_TYPE.get(row.type)
    if kind is None:
        return None
    event = to_event(row.type, row.schema_version, row.data)
    streak = _streak(conn, row) if kind == "failing" else None
    return Candidate(
        event_id=row.event_id,
        event_position=row.position,
        stream_id=row.stream_id,
        kind=kind,
        source=_source(conn, row.stream_id)[0],
        significance=_significance(event),
        summary=_summary(event, streak),
        streak=streak,
    )


def build_alert(conn: Connection, delivery: Any, public_url: str | None = None) -> Alert:
    """The alert of a delivery row, rebuilt from its event (the same on every try).
    A change's alert reads the change as the report does (monitor.changes.load),
    so both describe it with the same data."""
    row = conn.execute(select(events).where(events.c.event_id == delivery.event_id)).first()
    if row is None:
        raise MonitorError(f"event {delivery.event_id} is not in the log")
    event = to_event(row.type, row.schema_version, row.data)
    name, url, title = _source(conn, row.stream_id)
    common = {"id": delivery.alert_id, "kind": delivery.kind, "event_id": row.event_id,
              "event_position": row.position, "source_name": name, "source_url": url,
              "detected_at": row.recorded_at}
    if isinstance(event, CheckpointSigned):
        return checkpoint_alert(common, row, event)
    if delivery.kind == "failing":
        streak = _streak(conn, row)
        summary = _summary(event, streak)
        details = _details(event, streak)
        data = {"event_id": row.event_id, "event_position": row.position, "title": title,
                "source": {"name": name, "url": url}, "detected_at": utc_iso(row.recorded_at),
                "significance": SIGNIFICANCE["failing"], "summary": summary, **details,
                "links": links(name, url, public_url)}
        return Alert(**common, significance=SIGNIFICANCE["failing"], classes=("failing",),
                     summary=summary, title=title, data=data, details=details)
    if delivery.kind == "reverted":  # a change undone within its confirmation delay
        from monitor.alerts.confirmation import reverted_alert

        return reverted_alert(conn, common, row, public_url)
    record = load_change(conn, row.position)
    if record is None:
        raise MonitorError(f"event {row.event_id} has no row in the changes projection; "
                           "run `monitor rebuild`")
    shot = (version_ref(conn, row.stream_id, record.to_version.number)
            if delivery.kind == "changed" and record.to_version is not None else None)
    return Alert(**common, significance=record.significance, classes=record.classes,
                 summary=record.summary, title=record.title, record=record,
                 data=change_data(record, public_url),
                 screenshot=shot.sha256 if shot is not None else None)


def _source(conn: Connection, stream_id: str) -> tuple[str, str, str | None]:
    row = conn.execute(select(sources.c.name, sources.c.url, sources.c.title)
                       .where(sources.c.stream_id == stream_id)).first()
    return (row.name, row.url, row.title) if row is not None else (stream_id, "", None)


def _significance(event: Event) -> str:
    if isinstance(event, ChangeDetected):
        return event.significance
    return SIGNIFICANCE[KIND_OF_TYPE[event.type]]


def _streak(conn: Connection, row: Any) -> Streak:
    in_stream = events.c.stream_id == row.stream_id
    last_end = conn.execute(
        select(func.max(events.c.version))
        .where(in_stream, events.c.version < row.version, events.c.type.in_(FAILURE_STREAK_ENDS))
    ).scalar() or 0
    started, failures, previous = conn.execute(
        select(
            func.min(events.c.recorded_at),
            func.count(),
            func.max(case((events.c.version < row.version, events.c.recorded_at))),
        ).where(in_stream, events.c.type == "FetchFailed", events.c.version > last_end,
                events.c.version <= row.version)
    ).one()
    return Streak(as_datetime(started), as_datetime(previous) if previous else None,
                  row.recorded_at, int(failures))


def _summary(event: Event, streak: Streak | None) -> str:
    match event:
        case ChangeDetected():
            return event.summary
        case DocumentPublished():
            return f"published: {event.title or event.url}"
        case DocumentRemoved():
            return removal_summary(to_data(event))
        case FetchFailedEvent():
            # one_line: events recorded before messages were cleaned may hold escapes.
            message = _short(one_line(f"{event.kind}: {event.message}"))
            if streak is None:
                return f"failing: {message}"
            return (f"failing for {human_duration(streak.duration)} "
                    f"({streak.failures} failures recorded): {message}")
    if isinstance(event, CheckpointSigned):
        return checkpoint_summary(event)
    return event.type


def _details(event: Event, streak: Streak) -> dict[str, Any]:
    """What a "failing" alert carries besides the summary (see README.md)."""
    if not isinstance(event, FetchFailedEvent):
        return {}
    return {"failing": {
        "since": utc_iso(streak.started_at),
        "failures": streak.failures,
        # one_line: events recorded before messages were cleaned may hold escapes.
        "error": {"kind": event.kind, "message": _short(one_line(event.message)),
                  "status": event.status},
    }}


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def human_duration(span: timedelta) -> str:
    """'45 min', '6 h 12 min', '2 d 3 h'."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
