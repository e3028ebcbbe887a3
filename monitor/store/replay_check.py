"""Prove the projections say what the log says: replay it and compare, row by row.

`report`, `show`, `history` and the alerts read the projections (`sources`,
`versions`, `changes`), not the log: a hand-edited row would change what people
read while every hash still matched. So `verify` replays the log through the very
`apply` the store runs on each append (monitor.store.projections), into a scratch
in-memory SQLite database, and compares each replayed row with the stored one.

Every projection row belongs to one stream and every handler reads only its own
stream's rows, so the replay goes a few hundred streams at a time and the scratch
database never holds more than their rows: memory stays bounded on a large store. The events
and the stored rows are read in one transaction (one snapshot), so appends made
while it runs cannot show up as differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, delete, func, select
from sqlalchemy.pool import StaticPool

from monitor.store.projections import _stored, apply
from monitor.store.schema import PROJECTION_TABLES, events
from monitor.untrusted import one_line

SHOWN = 60  # characters of a value shown in a difference
# The scratch tables hold the replay of at most this many streams, or a few more
# events than this, before their rows are compared and dropped.
CHUNK_STREAMS = 200
CHUNK_EVENTS = 5000
_UNREADABLE = object()


@dataclass
class ReplayCheck:
    limit: int = 20  # differences named at most; the check stops there
    rows_compared: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.differences) >= self.limit

    def add(self, difference: str) -> None:
        if not self.full:
            self.differences.append(difference)


def check_projections(engine: Engine, max_differences: int = 20) -> ReplayCheck:
    """Replay the log into scratch tables and name every stored row that differs."""
    found = ReplayCheck(limit=max_differences)
    scratch = _scratch_engine()
    try:
        with engine.connect() as conn, scratch.connect() as work:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            seen = _replay_streams(conn, work, found)
            if not found.full:
                _rows_without_stream(conn, seen, found)
    finally:
        scratch.dispose()
    return found


def _scratch_engine() -> Engine:
    engine = create_engine("sqlite://", poolclass=StaticPool, future=True)
    for table in PROJECTION_TABLES:
        table.create(engine)
    return engine


def _replay_streams(conn: Connection, work: Connection, found: ReplayCheck) -> set[str]:
    """Apply each event as it is read; every few hundred streams (never splitting one),
    compare their rows and empty the scratch tables."""
    seen: set[str] = set()
    rows = conn.execution_options(yield_per=1000).execute(
        select(events).order_by(events.c.stream_id, events.c.version))
    chunk: list[str] = []
    replayed = 0  # events applied to the scratch tables since they were emptied
    for row in rows:
        if not chunk or row.stream_id != chunk[-1]:
            if len(chunk) >= CHUNK_STREAMS or replayed >= CHUNK_EVENTS:
                _finish_chunk(conn, work, chunk, found)
                chunk, replayed = [], 0
                if found.full:
                    rows.close()
                    return seen
            chunk.append(row.stream_id)
            seen.add(row.stream_id)
        apply(work, [_stored(row)])
        replayed += 1
    if chunk:
        _finish_chunk(conn, work, chunk, found)
    return seen


def _finish_chunk(conn: Connection, work: Connection, chunk: list[str],
                  found: ReplayCheck) -> None:
    for table in PROJECTION_TABLES:
        replayed = _rows(work, table)
        try:
            stored = _rows(conn, table, chunk)
        except (ValueError, TypeError):  # e.g. a date or JSON column set to text by hand
            stored = _readable_rows(conn, table, chunk, found)
        _compare(table, replayed, stored, found)
        work.execute(delete(table))


def _rows(conn: Connection, table: Table,
          streams: list[str] | None = None) -> dict[tuple[Any, ...], Any]:
    """The table's rows (of these streams), by primary key."""
    query = select(table)
    if streams is not None:
        query = query.where(table.c.stream_id.in_(streams))
    keys = list(table.primary_key.columns)
    return {tuple(getattr(r, c.name) for c in keys): r for r in conn.execute(query)}


def _readable_rows(conn: Connection, table: Table, chunk: list[str],
                   found: ReplayCheck) -> dict[tuple[Any, ...], Any]:
    """Stream by stream, the rows that read back; a stream whose rows do not is named
    (and its replayed rows are then not blamed as missing)."""
    stored: dict[tuple[Any, ...], Any] = {}
    for stream_id in chunk:
        try:
            stored.update(_rows(conn, table, [stream_id]))
        except (ValueError, TypeError):
            found.add(f"{table.name} rows of stream {_shown(stream_id)}: stored values "
                      "do not read back (altered by hand)")
            stored.update(dict.fromkeys(_keys(conn, table, stream_id), _UNREADABLE))
    return stored


def _keys(conn: Connection, table: Table, stream_id: str) -> list[tuple[Any, ...]]:
    keys = list(table.primary_key.columns)
    query = select(*keys).where(table.c.stream_id == stream_id)
    return [tuple(r) for r in conn.execute(query)]


def _compare(table: Table, replayed: dict[tuple[Any, ...], Any],
             stored: dict[tuple[Any, ...], Any], found: ReplayCheck) -> None:
    for key in sorted(replayed.keys() | stored.keys(), key=repr):
        where = _row_name(table, key)
        mine, theirs = replayed.get(key), stored.get(key)
        if theirs is _UNREADABLE:
            continue  # named already
        if theirs is None:
            found.add(f"{where}: missing (the log has this row)")
            continue
        found.rows_compared += 1
        if mine is None:
            found.add(f"{where}: not in the log (no event makes this row)")
            continue
        for column in table.columns:
            kept, replay = getattr(theirs, column.name), getattr(mine, column.name)
            if kept != replay:
                found.add(f"{where}: {column.name} stored {_shown(kept)}, "
                                         f"the log says {_shown(replay)}")


def _rows_without_stream(conn: Connection, seen: set[str], found: ReplayCheck) -> None:
    """Rows of streams that have no event at all (added by hand, or the log emptied)."""
    for table in PROJECTION_TABLES:
        query = select(table.c.stream_id).distinct().order_by(table.c.stream_id)
        for stream_id in conn.execute(query).scalars():
            if stream_id in seen:
                continue
            count = conn.execute(select(func.count()).select_from(table)
                                 .where(table.c.stream_id == stream_id)).scalar_one()
            found.rows_compared += count
            found.add(
                f"{table.name}: {count} row{'s' if count != 1 else ''} of stream "
                f"{_shown(stream_id)}, which has no event in the log")
            if found.full:
                return


def _row_name(table: Table, key: tuple[Any, ...]) -> str:
    names = [c.name for c in table.primary_key.columns]
    return f"{table.name}[" + ", ".join(
        f"{n}={_shown(v)}" for n, v in zip(names, key, strict=True)) + "]"


def _shown(value: Any) -> str:
    """A value as it reads in a difference: quoted, on one line, cut short."""
    text = repr(value.isoformat(sep=" ") if hasattr(value, "isoformat") else value)
    return one_line(text, SHOWN)
