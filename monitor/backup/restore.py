"""Restoring: an empty store filled from an opened backup, the projections replayed from
the log in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from monitor.backup import COPIED, RECORD, STATE
from monitor.backup.read import Backup, Damaged
from monitor.errors import UsageError
from monitor.store import migrate, projections
from monitor.store.database import WRITE, serialize_appends
from monitor.store.faults import translated
from monitor.store.schema import events, sources, streams
from monitor.store.verify import StreamWalker, VerifyReport
from monitor.untrusted import one_line

_BATCH = 500


def nonempty(engine: Engine) -> str | None:
    """Why the store at `engine` is not an empty one to restore into (None: it is)."""
    revision = migrate.current_revision(engine)
    with translated(engine), engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        if revision is not None and revision != migrate.head_revision():
            return f"it is at schema {revision}"
        for table in (*RECORD, *STATE, sources):
            if table.name in present and conn.execute(
                    select(func.count()).select_from(table)).scalar_one():
                return f"its table {table.name} has rows"
        if revision is None and present & set(COPIED):
            return "it has the monitor's tables but no schema revision"
    return None


@dataclass
class Restored:
    rows: dict[str, int]
    replayed: int


def restore(backup: Backup, engine: Engine, *, log_only: bool) -> Restored:
    """Load the backup into the empty store at `engine`: the schema first, then every
    copied table and the replay of the projections in one transaction."""
    why = nonempty(engine)
    if why is not None:
        raise UsageError(f"the store is not empty ({why}): restore fills an empty store only; "
                         "nothing was written")
    migrate.upgrade(engine)
    loaded: dict[str, int] = {}
    tables = RECORD if log_only else RECORD + STATE
    with translated(engine), engine.connect().execution_options(**WRITE) as conn, conn.begin():
        serialize_appends(conn)
        if conn.execute(select(func.count()).select_from(events)).scalar_one():
            raise UsageError("the store was written to while the restore began; nothing was "
                             "written")
        for table in tables:
            loaded[table.name] = _load(conn, table, backup.rows(table), backup)
            expected = backup.manifest["tables"][table.name]["rows"]
            if loaded[table.name] != expected:  # pragma: no cover - checked on opening
                raise Damaged(f"{backup.path}: {table.name} gave {loaded[table.name]} rows, "
                              f"not {expected}")
        _check_chains(conn, backup)
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, tables)
        replayed = projections.replay(conn)
    return Restored(loaded, replayed)


def _load(conn: Connection, table: Table, rows: Iterator[dict[str, Any]],
          backup: Backup) -> int:
    """Insert the rows; one the database refuses (a key twice, an empty required value, a
    value its column cannot hold) is Damaged: the transaction is rolled back."""
    count, batch = 0, list[dict[str, Any]]()
    statement = insert(table)

    def flush() -> None:
        try:
            conn.execute(statement, batch)
        except (IntegrityError, DataError) as exc:
            refused(exc)
        except DBAPIError:
            raise  # the database's own trouble (a full disk, a lost server), not the rows'
        except StatementError as exc:  # a value its column's type cannot bind
            refused(exc)

    def refused(exc: StatementError) -> None:
        detail = one_line(str(getattr(exc, "orig", None) or exc), 100)
        raise Damaged(f"{backup.path}: table {table.name}'s rows {count + 1}-"
                      f"{count + len(batch)} are refused by the database ({detail}): "
                      "the backup was damaged or altered; nothing was written") from None

    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            flush()
            count += len(batch)
            batch = []
    if batch:
        flush()
        count += len(batch)
    return count


def _check_chains(conn: Connection, backup: Backup) -> None:
    """The loaded log's hash chains and stream heads, as `monitor verify` checks them, on
    the restoring connection before the commit: a log altered in the backup (its manifest
    rewritten to match) is refused with nothing written, naming the first altered event."""
    report = VerifyReport()
    heads = {row.stream_id: row for row in conn.execute(select(streams))}
    walker = StreamWalker(report, heads)
    found = conn.execute(  # on the statement: a connection's options would outlive it
        select(events).order_by(events.c.stream_id, events.c.version)
        .execution_options(yield_per=1000))
    for row in found:
        walker.feed(row)
        if report.problems:
            break
    else:
        walker.finish()
        report.problems.extend(f"stream {s!r}: all its events are missing"
                               for s in heads if s not in walker.seen)
    if report.problems:
        raise Damaged(f"{backup.path}: the log in it was altered: "
                      f"{one_line(report.problems[0], 160)}; nothing was written")


def _advance_sequences(conn: Connection, tables: tuple[Table, ...]) -> None:
    """PostgreSQL's sequences do not move for rows inserted with their ids: set each to
    the largest id loaded, so the next append takes the next one."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
            f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"),
            {"table": table.name, "column": column.name})
