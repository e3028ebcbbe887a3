"""Reading changes from the store: the `changes` projection, the versions they
join, the sources' names, and the events for what only they hold (the hunks, the
removal, the publication). Read-only; events are read through the mapper, so old
event versions are upcast like everywhere else.

The report and the alert dispatcher both read changes here, so a change reads
the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from monitor.changes.archives import archive_urls
from monitor.changes.record import (
    CHANGED,
    PUBLISHED,
    REMOVED,
    ChangeRecord,
    Publication,
    Removal,
    VersionRef,
)
from monitor.diff import Change
from monitor.document import Document
from monitor.errors import PersistenceError
from monitor.events import ChangeDetected, DocumentPublished, DocumentRemoved, Event
from monitor.removal import removal_said
from monitor.store.mapper import to_data, to_event
from monitor.store.schema import changes, events, sources, versions
from monitor.store.snapshots import get_text

_BATCH = 500  # values per IN (...) query, well under any driver's limit


def load_change(conn: Connection, event_position: int) -> ChangeRecord | None:
    """The change recorded by the event at this position; None if it is not one."""
    row = conn.execute(select(changes).where(changes.c.event_position == event_position)).first()
    return None if row is None else load_changes(conn, [row])[0]


def load_changes(conn: Connection, rows: Sequence[Any]) -> list[ChangeRecord]:
    """The changes of these `changes` projection rows, in their order."""
    streams = sorted({r.stream_id for r in rows})
    named = {r.stream_id: r for batch in _batches(streams) for r in conn.execute(
        select(sources.c.stream_id, sources.c.name, sources.c.url, sources.c.title)
        .where(sources.c.stream_id.in_(batch)))}
    stored = _versions(conn, streams)
    found = _events(conn, [r.event_position for r in rows])
    copies = archive_urls(conn, streams, [r.event_id for r in rows])
    return [_record(conn, row, named.get(row.stream_id), stored.get(row.stream_id, {}),
                    found.get(row.event_position), copies.get(row.event_id)) for row in rows]


def _record(conn: Connection, row: Any, source: Any, stored: dict[int, VersionRef],
            event: Event | None, archive_url: str | None = None) -> ChangeRecord:
    name = source.name if source is not None else row.stream_id
    watched = source.url if source is not None else ""
    old = stored.get(row.from_version) if row.from_version else None
    new = stored.get(row.to_version) if row.to_version else None
    known = next((v.title for v in (new, old) if v is not None), None)
    title = known or (source.title if source is not None else None)
    fields: dict[str, Any] = {}
    if row.kind == CHANGED:
        if not isinstance(event, ChangeDetected):
            raise _missing(row, "ChangeDetected")
        fields["hunks"] = Change.from_dict(event.change).hunks
    elif row.kind == PUBLISHED:
        if not isinstance(event, DocumentPublished):
            raise _missing(row, "DocumentPublished")
        fields["publication"] = Publication(event.url, event.title, event.published,
                                            event.registered_as)
        title = event.title
    elif row.kind == REMOVED:
        if not isinstance(event, DocumentRemoved):
            raise _missing(row, "DocumentRemoved")
        last = old.text_hash if old is not None else event.last_hash
        fields["removal"] = Removal(
            event.status, event.confirmations, _body(conn, last) if last else "",
            judged_by=event.judged_by, evidence=dict(event.evidence),
            said=removal_said(to_data(event)))
    url = (fields["publication"].url if row.kind == PUBLISHED
           else next((v.url for v in (new, old) if v is not None and v.url), watched))
    return ChangeRecord(
        event_position=row.event_position, event_id=row.event_id, kind=row.kind, source=name,
        source_url=watched, url=url, title=title, detected_at=row.detected_at,
        significance=row.significance, classes=tuple(row.classes), summary=row.summary,
        from_version=old, to_version=new, archive_url=archive_url, **fields,
    )


def _missing(row: Any, event_type: str) -> PersistenceError:
    return PersistenceError(f"change at position {row.event_position} has no {event_type} "
                            "event; run `monitor rebuild`")


def _versions(conn: Connection, streams: list[str]) -> dict[str, dict[int, VersionRef]]:
    """stream_id -> number -> version, with the title and date known at each."""
    found: dict[str, dict[int, VersionRef]] = {}
    for batch in _batches(streams):
        query = (select(versions).where(versions.c.stream_id.in_(batch))
                 .order_by(versions.c.stream_id, versions.c.document_version))
        title = published = None
        stream = None
        for v in conn.execute(query):
            if v.stream_id != stream:
                stream, title, published = v.stream_id, None, None
            title, published = v.title or title, v.published or published
            found.setdefault(v.stream_id, {})[v.document_version] = VersionRef(
                number=v.document_version, captured_at=v.captured_at, text_hash=v.content_hash,
                raw_hash=v.raw_hash, title=title, published=published, url=v.url)
    return found


def _events(conn: Connection, positions: list[int]) -> dict[int, Event]:
    found: dict[int, Event] = {}
    for batch in _batches(positions):
        query = select(events.c.position, events.c.type, events.c.schema_version,
                       events.c.data).where(events.c.position.in_(batch))
        for row in conn.execute(query):
            found[row.position] = to_event(row.type, row.schema_version, row.data)
    return found


def _body(conn: Connection, content_hash: str) -> str:
    """A stored version's paragraphs, separated by blank lines."""
    return "\n\n".join(Document.from_canonical(get_text(conn, content_hash)).paragraphs)


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(items)
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]
