"""Reading what a report shows from the store: the changes that pass its filters,
read by monitor.changes.load as the alerts read them, and version diffs.

Read-only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, select

from monitor.changes.load import load_changes
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.errors import UsageError
from monitor.report.filters import SIGNIFICANCE_LEVELS, ReportFilter
from monitor.report.model import Report, VersionDiff
from monitor.store.queries import get_source, list_versions
from monitor.store.schema import changes, sources
from monitor.store.snapshots import get_text

_IN_SQL = 500  # sources named in the query itself; more are checked as rows come


def gather_report(engine: Engine, wanted: ReportFilter, generated_at: datetime,
                  public_url: str | None = None, *, only: Collection[str] | None = None,
                  latest: int | None = None) -> Report:
    """The changes that pass the filter, oldest first. `only`: of these sources (names)
    alone; `latest`: only the newest so many (a live feed reads no more than those)."""
    with engine.connect() as conn:
        names = _matching_sources(conn, wanted)
        if only is not None:
            names = {k: r for k, r in names.items() if r.name in only}
        narrowed = wanted.source_glob is not None or only is not None
        rows: list[Any] = []
        found_rows = _change_rows(conn, wanted, set(names) if narrowed else None, latest)
        try:
            for row in found_rows:
                if row.stream_id in names and wanted.matches_significance(row.significance):
                    rows.append(row)
                    if latest is not None and len(rows) >= latest:
                        break
        finally:
            found_rows.close()
        if latest is not None:
            rows.reverse()
        found = tuple(load_changes(conn, rows))
    return Report(found, generated_at, wanted.since, wanted.until, wanted.source_glob,
                  wanted.min_significance, public_url)


def _matching_sources(conn: Connection, wanted: ReportFilter) -> dict[str, Any]:
    """stream_id -> source row, for the sources the glob selects."""
    rows = conn.execute(select(sources.c.stream_id, sources.c.name, sources.c.url)).all()
    chosen = {r.stream_id: r for r in rows if wanted.matches_source(r.name)}
    if wanted.source_glob is not None and not chosen:
        raise UsageError(f"--source {wanted.source_glob!r} matches no source "
                         "(see `monitor sources`)")
    return chosen


def _change_rows(conn: Connection, wanted: ReportFilter, streams: set[str] | None,
                 latest: int | None) -> CursorResult[Any]:
    """The `changes` rows in the window, oldest first (newest first for `latest`), of
    `streams` when given (in SQL when they are few; the caller checks them all)."""
    order = changes.c.event_position
    query = select(changes).order_by(order.desc() if latest is not None else order)
    if wanted.since is not None:
        query = query.where(changes.c.detected_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(changes.c.detected_at < wanted.until)
    if streams is not None and len(streams) <= _IN_SQL:
        query = query.where(changes.c.stream_id.in_(sorted(streams)))
    if wanted.min_significance is not None:
        levels = SIGNIFICANCE_LEVELS[SIGNIFICANCE_LEVELS.index(wanted.min_significance):]
        query = query.where(changes.c.significance.in_(levels))
    return conn.execute(query)


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
    known = [v.title for n, v in sorted(stored.items()) if n <= new and v.title]
    return VersionDiff(
        source=row.name, url=stored[new].url or row.url, title=known[-1] if known else None,
        from_version=old, to_version=new,
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
