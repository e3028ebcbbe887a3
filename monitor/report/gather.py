"""Reading what a report shows from the store: the `changes` projection, the
sources' names and URLs, and the hunks kept in each ChangeDetected event.

Read-only. Event data is read through the mapper, so old event versions are
upcast like everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.diff import Change, Hunk, diff_documents
from monitor.document import Document
from monitor.errors import PersistenceError, UsageError
from monitor.events import ChangeDetected, DocumentPublished
from monitor.report.filters import ReportFilter
from monitor.report.model import CHANGED, PUBLISHED, Report, ReportChange, VersionDiff
from monitor.store.mapper import to_event
from monitor.store.queries import get_source, list_versions
from monitor.store.schema import changes, events, sources
from monitor.store.snapshots import get_text

_BATCH = 500  # event positions per IN (...) query, well under any driver's limit


def gather_report(engine: Engine, wanted: ReportFilter, generated_at: datetime) -> Report:
    """The changes that pass the filter, oldest first."""
    with engine.connect() as conn:
        names = _matching_sources(conn, wanted)
        rows = [r for r in _change_rows(conn, wanted)
                if r.stream_id in names and wanted.matches_significance(r.significance)]
        details = _event_data(conn, [r.event_position for r in rows if r.kind != "removed"])
    found = tuple(_report_change(row, names[row.stream_id], details) for row in rows)
    return Report(found, generated_at, wanted.since, wanted.until, wanted.source_glob,
                  wanted.min_significance)


def _matching_sources(conn: Connection, wanted: ReportFilter) -> dict[str, Any]:
    """stream_id -> source row, for the sources the glob selects."""
    rows = conn.execute(select(sources.c.stream_id, sources.c.name, sources.c.url)).all()
    chosen = {r.stream_id: r for r in rows if wanted.matches_source(r.name)}
    if wanted.source_glob is not None and not chosen:
        raise UsageError(f"--source {wanted.source_glob!r} matches no source "
                         "(see `monitor sources`)")
    return chosen


def _change_rows(conn: Connection, wanted: ReportFilter) -> list[Any]:
    query = select(changes).order_by(changes.c.event_position)
    if wanted.since is not None:
        query = query.where(changes.c.detected_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(changes.c.detected_at < wanted.until)
    return list(conn.execute(query))


def _event_data(conn: Connection, positions: list[int]) -> dict[int, Any]:
    """position -> the domain event, for the positions given."""
    found: dict[int, Any] = {}
    for batch in _batches(positions, _BATCH):
        query = select(events.c.position, events.c.type, events.c.schema_version,
                       events.c.data).where(events.c.position.in_(batch))
        for row in conn.execute(query):
            found[row.position] = to_event(row.type, row.schema_version, row.data)
    return found


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _report_change(row: Any, source: Any, details: dict[int, Any]) -> ReportChange:
    event = details.get(row.event_position)
    url: str = source.url
    hunks: tuple[Hunk, ...] = ()
    if row.kind == CHANGED:
        if not isinstance(event, ChangeDetected):
            raise PersistenceError(f"change at position {row.event_position} has no "
                                   "ChangeDetected event; run `monitor rebuild`")
        hunks = Change.from_dict(event.change).hunks
    elif row.kind == PUBLISHED and isinstance(event, DocumentPublished):
        url = event.url
    return ReportChange(
        event_position=row.event_position, event_id=row.event_id, kind=row.kind,
        source=source.name, url=url, detected_at=row.detected_at,
        significance=row.significance, classes=tuple(row.classes), summary=row.summary,
        hunks=hunks, from_version=row.from_version, to_version=row.to_version,
    )


def gather_version_diff(engine: Engine, source: str, from_version: int | None,
                        to_version: int | None) -> VersionDiff:
    """The diff between two stored versions; by default the previous and the latest."""
    row = get_source(engine, source)
    stored = {v.document_version: v for v in list_versions(engine, row.stream_id)}
    newest = max(stored, default=0)
    new = newest if to_version is None else to_version
    old = new - 1 if from_version is None else from_version
    for number in (old, new):
        if number not in stored:
            raise UsageError(_missing_version(row.name, number, newest))
    with engine.connect() as conn:
        before, after = (_document(conn, stored[n].content_hash) for n in (old, new))
    change = diff_documents(before, after)
    return VersionDiff(
        source=row.name, url=stored[new].url or row.url, from_version=old, to_version=new,
        from_captured_at=stored[old].captured_at, to_captured_at=stored[new].captured_at,
        significance=change.significance, classes=change.classes, summary=change.summary(),
        hunks=change.hunks,
    )


def _missing_version(name: str, number: int, newest: int) -> str:
    if number == 0:
        return f"source {name!r}: version 1 is the first, there is nothing before it"
    if newest == 0:
        return f"source {name!r} has no stored version yet"
    return f"source {name!r} has no version {number} (versions 1 to {newest})"


def _document(conn: Connection, content_hash: str) -> Document:
    return Document.from_canonical(get_text(conn, content_hash))
