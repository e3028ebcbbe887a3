"""Public archive copies of a change's page (ArchiveCopyRecorded events): recorded
by the `wayback` alert channel, read from the log by whatever shows a change.

They are read from the log itself, not from a projection: an archive URL shown in
a report is one the hash chain covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from monitor.errors import ConcurrencyConflict
from monitor.events import ArchiveCopyRecorded
from monitor.store.schema import events

if TYPE_CHECKING:
    from monitor.store import EventStore

TYPE = ArchiveCopyRecorded.type
_BATCH = 500
_ATTEMPTS = 5  # appends lost to a checker writing the same stream before giving up


def _for_change() -> Any:
    return events.c.data["change_event_id"].as_string()


def archive_urls(conn: Connection, streams: Iterable[str],
                 change_ids: Iterable[str]) -> dict[str, str]:
    """change event id -> the latest archive URL recorded for it."""
    wanted = set(change_ids)
    found: dict[str, str] = {}
    names = sorted(set(streams))
    for start in range(0, len(names), _BATCH):
        query = (select(_for_change().label("change"), events.c.data)
                 .where(events.c.type == TYPE,
                        events.c.stream_id.in_(names[start:start + _BATCH]))
                 .order_by(events.c.position))
        for row in conn.execute(query):
            if row.change in wanted and isinstance(row.data.get("archive_url"), str):
                found[row.change] = row.data["archive_url"]
    return found


def recorded_copy(conn: Connection, stream_id: str, change_event_id: str) -> str | None:
    """The archive URL already recorded for this change, if any."""
    row = conn.execute(
        select(events.c.data).where(events.c.stream_id == stream_id, events.c.type == TYPE,
                                    _for_change() == change_event_id)
        .order_by(events.c.position.desc()).limit(1)).first()
    return None if row is None else str(row.data.get("archive_url"))


def record_copy(store: EventStore, stream_id: str, copy: ArchiveCopyRecorded) -> None:
    """Append the copy to the document's stream, after whatever a checker appends
    meanwhile."""
    for _ in range(_ATTEMPTS):
        try:
            store.append(stream_id, store.stream_version(stream_id), [copy])
            return
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(stream_id, store.stream_version(stream_id))
