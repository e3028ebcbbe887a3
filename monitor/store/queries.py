"""Read-side queries over the projections and blobs (no writes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, select

from monitor.document import Document
from monitor.errors import UsageError
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.schema import changes, events, sources, versions
from monitor.store.snapshots import get_text


def list_sources(engine: Engine, include_removed: bool = False) -> list[SourceRow]:
    query = select(sources).order_by(sources.c.name)
    if not include_removed:
        query = query.where(sources.c.state != "removed")
    with engine.connect() as conn:
        return [SourceRow.of(row) for row in conn.execute(query)]


def source_schedules(engine: Engine, since: int, types: Iterable[str]) -> list[Any]:
    """(name, interval_seconds, kind, state) of the sources (removed ones too) with an
    event of `types` after log position `since`: what a scheduler following the log
    needs, without the rest of each row."""
    touched = (select(events.c.stream_id)
               .where(events.c.position > since, events.c.type.in_(list(types))))
    query = (select(sources.c.name, sources.c.interval_seconds, sources.c.kind,
                    sources.c.state).where(sources.c.stream_id.in_(touched)))
    with engine.connect() as conn:
        return list(conn.execute(query))


def source_schedule_batches(engine: Engine,
                            size: int = 5000) -> Iterator[list[tuple[str, Any, str, str]]]:
    """(name, interval_seconds, kind, state) of every source not removed, `size` at a
    time, as plain tuples: a daemon starting with 100,000 sources begins with the first."""
    query = (select(sources.c.name, sources.c.interval_seconds, sources.c.kind,
                    sources.c.state).where(sources.c.state != "removed"))
    with engine.connect() as conn:
        result = conn.execute(query.execution_options(yield_per=size)).tuples()
        for part in result.partitions(size):
            yield list(part)


def find_source(conn: Connection, where: ColumnElement[bool]) -> SourceRow | None:
    """The one source `where` picks (by name or stream id), if there is one."""
    row = conn.execute(select(sources).where(where)).first()
    return None if row is None else SourceRow.of(row)


def get_source(engine: Engine, name: str) -> SourceRow:
    with engine.connect() as conn:
        row = find_source(conn, sources.c.name == name)
    if row is None:
        raise UsageError(f"no source named {name!r} (see `monitor sources`)")
    return row


def source_by_stream(engine: Engine, stream_id: str) -> SourceRow | None:
    with engine.connect() as conn:
        return find_source(conn, sources.c.stream_id == stream_id)


def redirected_here(engine: Engine, url: str) -> set[str]:
    """The watched URLs of the sources with a stored version read at `url` though
    they watch another address: their redirects led there."""
    query = (select(sources.c.url).distinct()
             .join(versions, sources.c.stream_id == versions.c.stream_id)
             .where(versions.c.url == url, sources.c.url != url))
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def list_versions(engine: Engine, stream_id: str) -> list[VersionRow]:
    with engine.connect() as conn:
        return [VersionRow.of(row) for row in conn.execute(
            select(versions).where(versions.c.stream_id == stream_id)
            .order_by(versions.c.document_version)
        )]


def list_changes(engine: Engine, stream_id: str | None = None) -> list[Any]:
    query = select(changes).order_by(changes.c.event_position)
    if stream_id is not None:
        query = query.where(changes.c.stream_id == stream_id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def version_text(engine: Engine, stream_id: str,
                 number: int | None = None) -> tuple[VersionRow, str]:
    """A stored version (the latest when number is None) and its canonical text."""
    query = select(versions).where(versions.c.stream_id == stream_id)
    if number is None:
        query = query.order_by(versions.c.document_version.desc()).limit(1)
    else:
        query = query.where(versions.c.document_version == number)
    with engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            which = "stored version" if number is None else f"version {number}"
            raise UsageError(f"source {stream_id!r} has no {which}")
        return VersionRow.of(row), get_text(conn, row.content_hash)


def version_document(engine: Engine, stream_id: str, number: int | None = None) -> Document:
    return Document.from_canonical(version_text(engine, stream_id, number)[1])


def table_rows(engine: Engine, table: Any) -> list[tuple[Any, ...]]:
    """Every row of a table in primary-key order (to compare projections)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
