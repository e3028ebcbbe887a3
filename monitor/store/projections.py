"""Read models kept in step with the log: sources, their versions, and changes.

`apply` runs inside each append's transaction; `rebuild` drops the tables'
rows and replays the whole log through the same `apply`, so the two paths
cannot drift. Every value comes from the events (never from the clock), so a
rebuilt projection equals the incrementally kept one row for row. The search
index (monitor/store/search_index.py) is rebuilt with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from monitor.removal import removal_summary
from monitor.store import search_index
from monitor.store.database import WRITE, serialize_appends
from monitor.store.faults import translated
from monitor.store.mapper import StoredEvent
from monitor.store.rows import SourceRow
from monitor.store.schema import PROJECTION_TABLES, changes, events, sources, versions

Handler = Callable[[Connection, StoredEvent, dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}

RECONFIGURABLE = frozenset(
    {"url", "kind", "interval_seconds", "language", "selector", "ignore", "volatile",
     "follow", "options", "translation_of"}
)


def handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[event_type] = fn
        return fn

    return register


def apply(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    registered: list[dict[str, Any]] = []  # new sources in a row: one multi-row insert
    last: dict[str, StoredEvent] = {}  # per stream, the last event that moves its version
    for event in stored:
        if event.type == "SourceRegistered":
            registered.append(_registered_row(event, event.data))
            continue
        if registered:
            conn.execute(insert(sources), registered)
            registered = []
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(conn, event, event.data)
        last[event.stream_id] = event
    if registered:
        conn.execute(insert(sources), registered)
    # One UPDATE per stream for the batch (a change is two events): no handler reads
    # stream_version or last_event_position, and the batch is one transaction.
    for event in last.values():
        _touch(conn, event)


def rebuild(engine: Engine, batch: int = 2000) -> int:
    """Replay the whole log into empty projection tables, in one transaction.

    The transaction holds the lock appends take (BEGIN IMMEDIATE on SQLite, the events
    table lock on PostgreSQL) from first to last: an append committed mid-rebuild
    would update rows the rebuild then deletes, or be replayed onto a half-built
    source, and leave it at document_version 0 with a stale content_hash (issue 9).
    Appends wait; readers do not.
    """
    with translated(engine), engine.connect().execution_options(**WRITE) as conn, conn.begin():
        serialize_appends(conn)
        return replay(conn, batch)


def replay(conn: Connection, batch: int = 2000) -> int:
    """Empty the projections and replay the whole log into them, inside the caller's
    write transaction (`rebuild`, and a restore after loading the log); how many events."""
    count = 0
    for table in PROJECTION_TABLES:
        conn.execute(delete(table))
    search_index.clear(conn)
    position = 0
    while True:
        rows = conn.execute(
            select(events).where(events.c.position > position)
            .order_by(events.c.position).limit(batch)
        ).all()
        if not rows:
            break
        replayed = [_stored(row) for row in rows]
        apply(conn, replayed)
        search_index.apply(conn, replayed)
        count += len(rows)
        position = rows[-1].position
    return count


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        row.position, row.event_id, row.stream_id, row.version, row.type,
        row.schema_version, row.data, row.recorded_at, row.prev_hash, row.hash,
    )


def _touch(conn: Connection, event: StoredEvent) -> None:
    conn.execute(
        update(sources)
        .where(sources.c.stream_id == event.stream_id)
        .values(stream_version=event.version, last_event_position=event.position)
    )


def _source(conn: Connection, stream_id: str) -> SourceRow | None:
    row = conn.execute(select(sources).where(sources.c.stream_id == stream_id)).first()
    return None if row is None else SourceRow.of(row)


def _set(conn: Connection, stream_id: str, **values: Any) -> None:
    conn.execute(update(sources).where(sources.c.stream_id == stream_id).values(**values))


def _registered_row(event: StoredEvent, data: dict[str, Any]) -> dict[str, Any]:
    """The `sources` row of a SourceRegistered (`apply` inserts them many at once)."""
    return {
        "stream_id": event.stream_id,
        "name": data["name"],
        "url": data["url"],
        "kind": data["kind"],
        "interval_seconds": data["interval_seconds"],
        "language": data.get("language"),
        "selector": data.get("selector"),
        "ignore": list(data.get("ignore") or []),
        "volatile": [],
        "follow": bool(data.get("follow")),
        "translation_of": data.get("translation_of"),
        "options": dict(data.get("options") or {}),
        "state": "active",
        "stream_version": event.version,
        "document_version": 0,
        "failures": 0,
        "registered_at": event.recorded_at,
        "last_event_position": event.position,
    }


@handles("SourceReconfigured")
def _reconfigured(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    values = {k: v for k, v in data["changes"].items() if k in RECONFIGURABLE}
    if values:
        _set(conn, event.stream_id, **values)


@handles("SourcePaused")
def _paused(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    _set(conn, event.stream_id, state="paused")


@handles("SourceResumed")
def _resumed(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = _source(conn, event.stream_id)
    _set(conn, event.stream_id, state="failing" if row and row.failures else "active")


@handles("SourceRemoved")
def _removed(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    _set(conn, event.stream_id, state="removed")


def _add_version(conn: Connection, event: StoredEvent, data: dict[str, Any], origin: str) -> None:
    row = _source(conn, event.stream_id)
    if row is None:
        return
    number = row.document_version + 1
    title = data.get("title") or row.title
    published = data.get("published") or row.published
    conn.execute(
        insert(versions).values(
            stream_id=event.stream_id,
            document_version=number,
            content_hash=data["content_hash"],
            event_position=event.position,
            captured_at=event.recorded_at,
            origin=origin,
            title=data.get("title"),
            published=data.get("published"),
            url=data.get("url"),
            raw_hash=data.get("raw_hash"),
        )
    )
    values: dict[str, Any] = {
        "document_version": number, "content_hash": data["content_hash"], "title": title,
        "published": published, "raw_hash": data.get("raw_hash"), "failing_since": None,
    }
    if origin == "captured":
        values.update(etag=data.get("etag"), last_modified=data.get("last_modified"))
        if row.state == "gone":
            values["state"] = "active"
    _set(conn, event.stream_id, **values)


@handles("BaselineImported")
def _baseline(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    _add_version(conn, event, data, "baseline")


@handles("VersionCaptured")
def _captured(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    _add_version(conn, event, data, "captured")


def _add_change(
    conn: Connection, event: StoredEvent, kind: str, significance: str,
    classes: list[str], summary: str, from_version: int | None, to_version: int | None,
) -> None:
    conn.execute(
        insert(changes).values(
            event_position=event.position,
            event_id=event.event_id,
            stream_id=event.stream_id,
            kind=kind,
            detected_at=event.recorded_at,
            significance=significance,
            classes=classes,
            summary=summary,
            from_version=from_version,
            to_version=to_version,
        )
    )
    _set(conn, event.stream_id, last_change_at=event.recorded_at, last_significance=significance)


@handles("ChangeDetected")
def _changed(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = _source(conn, event.stream_id)
    to_version = row.document_version if row else None
    from_version = to_version - 1 if to_version else None
    _add_change(
        conn, event, "changed", data["significance"], list(data["classes"]), data["summary"],
        from_version, to_version,
    )


@handles("DocumentPublished")
def _published(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    summary = f"published: {data['title']}"
    _add_change(conn, event, "published", "medium", ["published"], summary, None, None)


@handles("DocumentRemoved")
def _gone(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    summary = removal_summary(data)
    row = _source(conn, event.stream_id)
    version = row.document_version if row else None
    _add_change(conn, event, "removed", "high", ["removed"], summary, version, None)
    _set(conn, event.stream_id, state="gone", failing_since=None)


@handles("FetchFailed")
def _failed(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = _source(conn, event.stream_id)
    if row is None:
        return
    values: dict[str, Any] = {
        "failures": row.failures + 1, "last_failure": f"{data['kind']}: {data['message']}"
    }
    if row.state == "active":
        values["state"] = "failing"
    if row.failing_since is None:  # the streak's first failure
        values["failing_since"] = event.recorded_at
    _set(conn, event.stream_id, **values)


@handles("SourceRecovered")
def _recovered(conn: Connection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = _source(conn, event.stream_id)
    state = row.state if row and row.state in ("paused", "removed") else "active"
    _set(conn, event.stream_id, failures=0, last_failure=None, state=state, failing_since=None)
