"""Search every stored version of every document, newest first.

Across all documents a hit is a document: its newest version that matches, with the
passage there, and whether that is still its latest version (a phrase a later edit
removed is found in the version that last said it). Within one document (`source`)
every matching version is a hit. The page, the API (`as_data`) and `monitor search`
show the same results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.errors import PersistenceError, UsageError
from monitor.moments import utc_iso
from monitor.search.matching import latest_per_document, versions_of
from monitor.search.parse import Query, parse_query
from monitor.search.passage import Segment, passage
from monitor.search.words import searchable_text
from monitor.store.faults import translated
from monitor.store.schema import sources, versions
from monitor.store.snapshots import get_text

MAX_LIMIT = 100
MAX_OFFSET = 10_000  # ten thousand hits in, a narrower search says more


@dataclass(frozen=True)
class Hit:
    source: str  # the source's name (its page is /sources/{source})
    title: str | None  # the version's title, else the document's
    version: int
    captured_at: datetime  # UTC
    latest_version: int  # the document's newest stored version
    passage: tuple[Segment, ...]

    @property
    def in_latest(self) -> bool:
        """Whether the matching version is the document's latest."""
        return self.version == self.latest_version


@dataclass(frozen=True)
class SearchResult:
    query: str
    source: str | None  # searched within this document only
    hits: tuple[Hit, ...]
    offset: int
    limit: int
    more: bool  # there are hits after these
    # False when, on PostgreSQL, a phrase whose words most versions hold was checked in
    # the newest of them only (monitor.search.matching.PHRASE_BUDGET): older documents
    # that say it may be missing. Searching within one document always checks them all.
    complete: bool = True

    def as_data(self) -> dict[str, Any]:
        """The JSON shape of the API and `monitor search --format json`."""
        return {
            "query": self.query, "source": self.source, "offset": self.offset,
            "limit": self.limit, "more": self.more, "complete": self.complete,
            "hits": [{
                "source": h.source, "title": h.title, "version": h.version,
                "captured_at": utc_iso(h.captured_at), "latest_version": h.latest_version,
                "in_latest": h.in_latest,
                "passage": [{"text": s.text, "match": s.match} for s in h.passage],
            } for h in self.hits],
        }


def search(engine: Engine, query: str, *, limit: int = 20, offset: int = 0,
           source: str | None = None) -> SearchResult:
    """Hits for `query` (see monitor/search/parse.py for what it may say), newest
    first; UsageError (one line) for a query that says nothing, or an unknown source."""
    parsed = parse_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be from 1 to {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise UsageError(f"offset must be from 0 to {MAX_OFFSET}")
    with translated(engine), engine.connect() as conn:
        stream_id = _stream_of(conn, source) if source is not None else None
        complete = True
        if stream_id is None:
            found = latest_per_document(conn, parsed, offset + limit + 1)
            positions, complete = found.positions[offset:], found.complete
        else:
            positions = versions_of(conn, parsed, stream_id, offset, limit + 1)
        hits = _hits(conn, parsed, positions[:limit])
    return SearchResult(parsed.text, source, hits, offset, limit, len(positions) > limit,
                        complete)


def _stream_of(conn: Connection, name: str) -> str:
    found = conn.execute(select(sources.c.stream_id).where(sources.c.name == name)).scalar()
    if found is None:
        raise UsageError(f"no source named {name!r}")
    return str(found)


def _hits(conn: Connection, query: Query, positions: list[int]) -> tuple[Hit, ...]:
    if not positions:
        return ()
    rows = conn.execute(
        select(versions.c.event_position, versions.c.document_version, versions.c.captured_at,
               versions.c.content_hash, versions.c.title, sources.c.name,
               sources.c.title.label("source_title"), sources.c.document_version.label("latest"))
        .join(sources, sources.c.stream_id == versions.c.stream_id)
        .where(versions.c.event_position.in_(positions))
    ).all()
    by_position = {row.event_position: row for row in rows}
    return tuple(_hit(conn, query, by_position[p]) for p in positions if p in by_position)


def _hit(conn: Connection, query: Query, row: Any) -> Hit:
    try:
        shown = passage(searchable_text(get_text(conn, row.content_hash)), query)
    except PersistenceError:  # a text missing or altered: `verify` names it
        shown = ()
    return Hit(row.name, row.title or row.source_title, row.document_version,
               row.captured_at, row.latest, shown)
