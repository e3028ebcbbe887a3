"""The search index: every stored version's words, kept in step with the log.

A projection like `sources` and `versions` (monitor/store/projections.py): `apply`
runs inside each append's transaction for the events that store a version
(VersionCaptured, BaselineImported), `clear` and the same `apply` rebuild it, and
migration 0010 fills it from the versions a store already holds. One row per version,
keyed by its event's position (`versions.event_position`, indexed for the join back).

The words are made and folded in Python (monitor/search/words.py), so both databases
index the same keys:
- SQLite: an FTS5 table, contentless (the texts are in `blobs` already, compressed
  as deltas; the index holds no second copy). It keeps each row's word count (a few
  bytes): without it, SQLite 3.40 cannot list or count the rows, as `SELECT count(*)`
  over every table does. Its `ascii` tokenizer only splits the folded keys
  at the spaces we put between them: non-ASCII characters are word characters to it,
  and every key is letters and digits, so no key is split or folded a second time.
- PostgreSQL: a tsvector per version, built from the keys as a tsvector literal (not
  with to_tsvector, whose parser and lowercasing depend on the server's locale), in a
  GIN index, beside the version's stream (so a search groups hits by document without
  a join: 100,000 lookups in `versions` took 300 ms). Positions past 16,383 are stored
  as 16,383 (PostgreSQL's limit): a word there is still found, a phrase spanning such
  words may not be.

Neither table is in monitor.store.schema's metadata: an FTS5 virtual table and its
shadow tables, or a tsvector column, exist on one dialect only (see DIALECT_TABLES).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import OperationalError

from monitor.errors import PersistenceError, SchemaError
from monitor.search.parse import tsquery_lexeme
from monitor.search.words import keys, searchable_text
from monitor.store.mapper import StoredEvent
from monitor.store.schema import versions
from monitor.store.snapshots import get_text

TABLE = "search_words"
# The tables the index adds, by dialect; the schema comparison leaves them out.
DIALECT_TABLES = frozenset({TABLE, f"{TABLE}_data", f"{TABLE}_idx", f"{TABLE}_config",
                            f"{TABLE}_docsize", f"{TABLE}_content"})
VERSION_EVENTS = frozenset({"VersionCaptured", "BaselineImported"})

# Words of one version indexed at most: ~1,500 pages of text. Bounds what one append
# costs (a 10 MB capture is ~1.5 M words) and keeps a tsvector under PostgreSQL's 1 MB.
MAX_WORDS = 200_000
_MAX_POSITION = 16_383  # PostgreSQL's last tsvector position
_MAX_POSITIONS = 256  # positions PostgreSQL keeps per lexeme
_MAX_TSVECTOR = 900_000  # bytes, under PostgreSQL's 1 MB limit
_BATCH = 500


def create(conn: Connection) -> None:
    for statement in _ddl(conn.dialect.name):
        try:
            conn.execute(text(statement))
        except OperationalError as exc:
            if "no such module: fts5" in str(exc):
                raise SchemaError(f"this Python's SQLite ({sqlite3.sqlite_version}) was built "
                                  "without FTS5, which search needs; use a Python whose "
                                  "sqlite3 has it (python.org and Debian builds do)") from None
            raise


def _ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"CREATE VIRTUAL TABLE {TABLE} USING fts5(words, content='', "
                "detail=full, tokenize='ascii')"]
    return [f"CREATE TABLE {TABLE} (event_position BIGINT PRIMARY KEY, "
            "stream_id VARCHAR(200) NOT NULL, words TSVECTOR NOT NULL)",
            f"CREATE INDEX ix_{TABLE} ON {TABLE} USING gin (words)"]


def drop(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def clear(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')"))
    else:
        conn.execute(text(f"DELETE FROM {TABLE}"))


def apply(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """Index the versions these events store (a projector: see EventStore)."""
    found = [(e.position, e.stream_id, e.data["content_hash"]) for e in stored
             if e.type in VERSION_EVENTS]
    if found:
        _index(conn, found)


def fill(conn: Connection) -> int:
    """Index every version the `versions` projection holds (migration 0010); how many."""
    done, position = 0, -1
    while True:
        rows = conn.execute(
            select(versions.c.event_position, versions.c.stream_id, versions.c.content_hash)
            .where(versions.c.event_position > position)
            .order_by(versions.c.event_position).limit(_BATCH)
        ).all()
        if not rows:
            return done
        _index(conn, [tuple(row) for row in rows])
        done += len(rows)
        position = rows[-1].event_position


def _index(conn: Connection, found: Iterable[tuple[Any, ...]]) -> None:
    index_texts(conn, ((position, stream_id, _text(conn, content_hash))
                       for position, stream_id, content_hash in found))


def index_texts(conn: Connection, texts: Iterable[tuple[int, str, str]]) -> None:
    """Index versions: (event position, stream id, canonical text)."""
    rows: list[dict[str, Any]] = []
    for position, stream_id, canonical in texts:
        words = keys(searchable_text(canonical))[:MAX_WORDS]
        if words:
            rows.append({"p": position, "s": stream_id, "w": _words(conn.dialect.name, words)})
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {TABLE}(rowid, words) VALUES (:p, :w)"), rows)
    else:
        conn.execute(text(f"INSERT INTO {TABLE} (event_position, stream_id, words) "
                          "VALUES (:p, :s, CAST(:w AS tsvector))"), rows)


def _text(conn: Connection, content_hash: str) -> str:
    """The version's text; a text missing from the store (`verify` names it) is indexed
    as empty rather than refusing to record the version."""
    try:
        return get_text(conn, content_hash)
    except PersistenceError:
        return ""


def _words(dialect: str, words: list[str]) -> str:
    return " ".join(words) if dialect == "sqlite" else tsvector_literal(words)


def tsvector_literal(words: list[str]) -> str:
    """`'key':1,4 'other':2 …`, positions from 1 as PostgreSQL counts them."""
    positions: dict[str, list[int]] = {}
    for number, key in enumerate(words, start=1):
        kept = positions.setdefault(key, [])
        at = min(number, _MAX_POSITION)
        if len(kept) < _MAX_POSITIONS and (not kept or kept[-1] != at):
            kept.append(at)
    parts: list[str] = []
    size = 0
    for key, places in positions.items():
        part = tsquery_lexeme(key) + ":" + ",".join(map(str, places))
        size += len(key.encode()) + 8 + 2 * len(places)  # what PostgreSQL stores per lexeme
        if size > _MAX_TSVECTOR:
            break  # only a text of hundreds of thousands of distinct words gets here
        parts.append(part)
    return " ".join(parts)
