"""Which versions match a query, newest first: the SQL of each database.

SQLite's FTS5 keeps every word's positions in its index: phrases are answered there,
and reading the matches newest first (rowid order) stops as soon as enough documents
are met. PostgreSQL's GIN index knows which versions hold a word, not where: a phrase
is checked against each candidate's stored tsvector. So on PostgreSQL the GIN index
finds the versions holding every word, and only those, newest first and a batch at a
time, are checked for the phrases, until enough documents matched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, text

from monitor.search.parse import Query, to_fts5, to_tsquery, words_only
from monitor.store.search_index import TABLE

_RECHECK = 200  # PostgreSQL: phrase candidates checked per statement (~5 ms)
# PostgreSQL: seconds spent checking phrase candidates before the search says it
# stopped. A phrase of words most versions hold, but rarely together, has them all as
# candidates: 90,000 of 100,000 versions took 2.7 s («суд решение права», bench).
PHRASE_BUDGET = 1.0


@dataclass(frozen=True)
class Matches:
    positions: list[int]  # event positions, newest first
    complete: bool = True  # False: the phrase budget ran out before every candidate


def latest_per_document(conn: Connection, query: Query, wanted: int) -> Matches:
    """The event positions of the newest matching version of each document, for the
    `wanted` documents whose match is newest, newest first."""
    if conn.dialect.name == "sqlite":
        return Matches(_sqlite_latest(conn, query, wanted))
    _bitmaps_only(conn)
    if not any(term.is_phrase for term in query.terms):
        return Matches(list(conn.execute(text(
            f"SELECT max(event_position) AS p FROM {TABLE} WHERE words @@ CAST(:q AS tsquery) "
            "GROUP BY stream_id ORDER BY p DESC LIMIT :n"),
            {"q": to_tsquery(query), "n": wanted}).scalars()))
    return _postgres_phrases(conn, query, wanted)


def versions_of(conn: Connection, query: Query, stream_id: str, offset: int,
                count: int) -> list[int]:
    """One page of one document's matching versions, newest first. Its versions are
    looked up in the index one by one: filtering every match of a common word by its
    document took 240 ms over 100,000 versions, this 1."""
    if conn.dialect.name == "sqlite":
        sql = (f"SELECT w.rowid FROM {TABLE} AS w WHERE w.words MATCH :match AND w.rowid IN "
               "(SELECT event_position FROM versions WHERE stream_id = :stream) "
               "ORDER BY w.rowid DESC LIMIT :count OFFSET :offset")
        match = to_fts5(query)
    else:
        _bitmaps_only(conn)
        sql = (f"SELECT event_position FROM {TABLE} WHERE words @@ CAST(:match AS tsquery) "
               "AND event_position IN (SELECT event_position FROM versions WHERE "
               "stream_id = :stream) ORDER BY event_position DESC LIMIT :count OFFSET :offset")
        match = to_tsquery(query)
    found = conn.execute(text(sql), {"match": match, "stream": stream_id, "count": count,
                                     "offset": offset})
    return list(found.scalars())


def _sqlite_latest(conn: Connection, query: Query, wanted: int) -> list[int]:
    """Read newest first and stopped there: a common word costs as many rows as it
    takes to meet `wanted` documents, not every version it is in."""
    rows = conn.execution_options(yield_per=256).execute(text(
        f"SELECT v.event_position, v.stream_id FROM {TABLE} AS w JOIN versions AS v "
        "ON v.event_position = w.rowid WHERE w.words MATCH :match ORDER BY w.rowid DESC"),
        {"match": to_fts5(query)})
    seen: set[str] = set()
    found: list[int] = []
    try:
        for position, stream_id in rows:
            if stream_id not in seen:
                seen.add(stream_id)
                found.append(position)
                if len(found) >= wanted:
                    break
    finally:
        rows.close()
    return found


def _postgres_phrases(conn: Connection, query: Query, wanted: int) -> Matches:
    """Candidates (every word there) from the GIN index, newest first; each checked for
    the phrases unless its document matched already, for PHRASE_BUDGET seconds."""
    deadline = time.monotonic() + PHRASE_BUDGET
    candidates = conn.execution_options(yield_per=2000).execute(text(
        f"SELECT event_position, stream_id FROM {TABLE} WHERE words @@ CAST(:q AS tsquery) "
        "ORDER BY event_position DESC"), {"q": to_tsquery(words_only(query))})
    matched: set[str] = set()
    found: list[int] = []
    batch: list[tuple[int, str]] = []
    try:
        for position, stream_id in candidates:
            if stream_id in matched:
                continue
            batch.append((position, stream_id))
            if len(batch) >= _RECHECK:
                _recheck(conn, query, batch, matched, found)
                batch = []
                if len(found) >= wanted:
                    break
                if time.monotonic() > deadline:
                    return Matches(found, complete=False)
        else:
            _recheck(conn, query, batch, matched, found)
    finally:
        candidates.close()
    return Matches(found[:wanted])


def _recheck(conn: Connection, query: Query, batch: list[tuple[int, str]],
             matched: set[str], found: list[int]) -> None:
    if not batch:
        return
    hits = set(conn.execute(text(
        f"SELECT event_position FROM {TABLE} WHERE event_position = ANY(:positions) "
        "AND words @@ CAST(:q AS tsquery)"),
        {"positions": [p for p, _ in batch], "q": to_tsquery(query)}).scalars())
    for position, stream_id in batch:  # newest first
        if position in hits and stream_id not in matched:
            matched.add(stream_id)
            found.append(position)


def _bitmaps_only(conn: Connection) -> None:
    """PostgreSQL does not count what reading a version's tsvector costs (it is stored
    apart, compressed): it would rather walk the versions newest first and test each
    one than ask the GIN index. For a word no version holds that read every version:
    3 s over 100,000 of them, against 1 ms through the index. So, for this search's
    transaction only: bitmap scans (an index says which rows) and no sort to disk."""
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_indexscan = off"))
    conn.execute(text("SET LOCAL work_mem = '32MB'"))
