"""A store at real size for the web bench, filled fast, and proven to hold what the
real append path would have written.

Why not EventStore.append: it costs about 9 ms a version on SQLite and 20 ms on
PostgreSQL on the shared 2-core machine (a dozen SQLAlchemy statements per append,
most of the time building them), so 100,000 versions would take 15 and 33 minutes.
Instead, each source's history is built in worker processes as the rows an append
writes (bench/web_history.py: the same hash chain, the same blob encoding, the real
diff), every step is numbered in time order, the projection rows are computed in
memory (bench/web_rows.py), and all of it is inserted with one statement per table
and batch. Then:

- the rows are checked the way `monitor verify` checks a store, on a sample of
  streams copied to a scratch store (hash chains and heads, every blob decoded
  against its hash, every version's text present, and the projections replayed
  through the real `projections.apply` and compared row by row);
- projectors the store runs beside `projections.apply` (the search index) are fed
  every event, in position order, through their own code: what the app reads is
  always what the monitor's own code made.

The SQLite store is cached under bench/.work/web/, keyed by the size, the schema's
revision and this fill's format; PostgreSQL gets a copy of it, table by table, in a
schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, text

from bench.pg import postgres_schema
from bench.web_history import History, Step, build
from bench.web_plan import Size, SourcePlan, plan
from bench.web_project import Rows, project
from monitor.store import migrate, open_store, projections
from monitor.store.database import WRITE, open_engine
from monitor.store.packing import pack
from monitor.store.schema import (
    PROJECTION_TABLES,
    blobs,
    check_ledger,
    check_sources,
    events,
    sources,
    streams,
    versions,
)
from monitor.store.verify import verify_log

FORMAT = 2  # bump when what the fill writes changes: the cached stores are made anew
BATCH = 2000
# Every table the fill writes.
FILLED = (events, streams, blobs, *PROJECTION_TABLES, check_sources, check_ledger)
SAMPLE_STREAMS = 200
CHUNK = 50  # sources per task of a worker process
Log = Callable[[str], None]


@dataclass
class Built:
    events: list[dict[str, Any]]
    blobs: list[dict[str, Any]]
    streams: list[dict[str, Any]]
    projected: Rows
    check_sources: list[dict[str, Any]]
    check_ledger: list[dict[str, Any]]
    plans: list[SourcePlan]
    steps: list[Step]  # in position order: what each append wrote


def cache_path(folder: Path, size: Size) -> Path:
    revision = migrate.head_revision() or "none"
    return folder / f"web-{size.key()}-f{FORMAT}-{revision}.db"


def sqlite_store(folder: Path, size: Size, log: Log, *, workers: int | None = None) -> Path:
    """The cached SQLite store for `size`, filled first if there is none."""
    folder.mkdir(parents=True, exist_ok=True)
    path = cache_path(folder, size)
    if path.exists():
        log(f"web: reusing the filled store {path}")
        return path
    partial = path.with_name(path.name + ".partial")
    for leftover in folder.glob(partial.name + "*"):
        leftover.unlink()
    started = time.monotonic()
    built = build_rows(size, log, workers=workers)
    engine = open_engine(f"sqlite:///{partial}")
    try:
        migrate.upgrade(engine)
        write(engine, built, log)
        finish_projections(engine, log)
        verify_sample(engine, sample_streams(built.plans, size.seed), log)
    finally:
        engine.dispose()
    os.replace(partial, path)
    log(f"web: filled {path.name} in {time.monotonic() - started:.0f} s "
        f"({path.stat().st_size / 1e6:.0f} MB)")
    return path


def build_rows(size: Size, log: Log, *, workers: int | None = None,
               now: datetime | None = None) -> Built:
    """Every row of the store, built in `workers` processes (default: one per CPU);
    the histories end at `now` (default: the present moment, UTC)."""
    started = time.monotonic()
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    plans = plan(size, now)
    count = workers or os.cpu_count() or 1
    with _mapper(count) as each:
        chunks = [plans[i:i + CHUNK] for i in range(0, len(plans), CHUNK)]
        histories = [h for done in each(_build_chunk, chunks, [size.seed] * len(chunks))
                     for h in done]
        built = _numbered(histories, plans)
        by_stream: dict[str, list[dict[str, Any]]] = {}
        for e in built.events:
            by_stream.setdefault(e["stream_id"], []).append(e)
        grouped = list(by_stream.values())
        for rows in each(project, [grouped[i:i + CHUNK] for i in range(0, len(grouped), CHUNK)]):
            for name, part in rows.items():
                built.projected.setdefault(name, []).extend(part)
    log(f"web: built {len(built.events)} events, {len(built.blobs)} text blobs, "
        f"{len(built.check_ledger)} check-ledger rows for {size.sources} sources and "
        f"{len(built.projected['versions'])} versions (projections by projections.apply) "
        f"in {time.monotonic() - started:.0f} s ({count} processes)")
    return built


@contextmanager
def _mapper(count: int) -> Iterator[Callable[..., Iterator[Any]]]:
    """`map` over `count` worker processes, or in this one."""
    if count == 1:
        yield map
        return
    with ProcessPoolExecutor(max_workers=count) as pool:
        yield pool.map


def _build_chunk(chunk: Sequence[SourcePlan], seed: int) -> list[History]:
    return [build(p, seed) for p in chunk]


def _numbered(histories: list[History], plans: list[SourcePlan]) -> Built:
    """Positions in time order (as one daemon would have appended them), the stream
    heads, the blobs once each, the projections, and the ledger numbered."""
    steps = sorted((s for h in histories for s in h.steps), key=lambda s: (s.at, s.stream_id))
    rows: list[dict[str, Any]] = []
    kept: dict[str, dict[str, Any]] = {}
    heads: dict[str, dict[str, Any]] = {}
    for step in steps:
        for blob in step.blobs:
            kept.setdefault(blob["sha256"], blob)
        for e in step.events:
            e["position"] = len(rows) + 1
            rows.append(e)
        last = step.events[-1]
        heads[step.stream_id] = {"stream_id": step.stream_id, "version": last["version"],
                                 "head_hash": last["hash"]}
    checks = sorted(((at, p.name, status, outcome, version, raw)
                     for p, h in zip(plans, histories, strict=True)
                     for at, status, outcome, version, raw in h.ledger),
                    key=lambda c: (c[0], c[1]))
    numbers: dict[str, int] = {}
    ledger: list[dict[str, Any]] = []
    for at, name, status, outcome, version, raw in checks:
        number = numbers.setdefault(name, len(numbers) + 1)
        ledger.append({"id": len(ledger) + 1, "source": number, "at": at, "status": status,
                       "outcome": outcome, "version": version, "raw": raw})
    return Built(rows, list(kept.values()), list(heads.values()), {},
                 [{"no": n, "stream_id": s} for s, n in numbers.items()], ledger, plans, steps)


def write(engine: Engine, built: Built, log: Log) -> None:
    started = time.monotonic()
    tables: dict[Table, list[dict[str, Any]]] = {
        events: built.events, streams: built.streams, blobs: built.blobs,
        **{t: built.projected.get(t.name, []) for t in PROJECTION_TABLES},
        check_sources: built.check_sources, check_ledger: built.check_ledger,
    }
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for table, rows in tables.items():
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(table), _as_stored(table, rows[i:i + BATCH]))
        _restart_sequences(conn)
    _checkpoint(engine)
    log(f"web: inserted {sum(len(r) for r in tables.values())} rows into "
        f"{engine.dialect.name} in {time.monotonic() - started:.0f} s")


def _as_stored(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as EventStore.append stores them: a change's event data packed."""
    if table is not events:
        return rows
    return [{**row, "data": pack(row["type"], row["data"])} for row in rows]


def _checkpoint(engine: Engine) -> None:
    """SQLite: move the WAL into the database file, so the cached file stands alone."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _restart_sequences(conn: Any) -> None:
    """PostgreSQL's counters go on after the rows loaded with their own numbers."""
    if conn.dialect.name != "postgresql":
        return
    for table, column in ((events, "position"), (check_sources, "no"), (check_ledger, "id")):
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"(SELECT coalesce(max({column}), 0) + 1 FROM {table.name}), false)"))


def copy_store(source: Engine, target: Engine, log: Log,
               stream_ids: Sequence[str] | None = None) -> None:
    """Every table the fill writes, row for row, from one store to another (of the
    streams named, with the blobs their versions need, when `stream_ids` is given)."""
    started = time.monotonic()
    count = 0
    with source.connect() as read, target.connect().execution_options(**WRITE) as conn, \
            conn.begin():
        for table in FILLED:
            query = select(table)
            if stream_ids is not None:
                query = _of_streams(table, query, stream_ids)
                if query is None:
                    continue
            result = read.execution_options(yield_per=BATCH).execute(query)
            for part in result.partitions(BATCH):
                conn.execute(insert(table), _as_stored(table, [dict(r._mapping) for r in part]))
                count += len(part)
        _restart_sequences(conn)
    log(f"web: copied {count} rows {source.dialect.name} -> {target.dialect.name} in "
        f"{time.monotonic() - started:.0f} s")


def _of_streams(table: Table, query: Any, stream_ids: Sequence[str]) -> Any:
    if table is blobs:
        # each text's base is the same stream's previous text: its versions' blobs suffice
        return query.where(blobs.c.sha256.in_(
            select(versions.c.content_hash).where(versions.c.stream_id.in_(stream_ids))))
    if "stream_id" in table.c:
        return query.where(table.c.stream_id.in_(stream_ids))
    return None  # the ledger rows are not part of the sample's check


def finish_projections(engine: Engine, log: Log) -> None:
    """What else the store projects from the log (projectors beside projections.apply,
    such as a search index), made by their own code: every event, in position order."""
    store = open_store(str(engine.url.render_as_string(hide_password=False)))
    try:
        others = [p for p in store.projectors if p is not projections.apply]
        if others:
            started = time.monotonic()
            with store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                position = 0
                while rows := conn.execute(select(events).where(events.c.position > position)
                                           .order_by(events.c.position).limit(BATCH)).all():
                    stored = [projections._stored(r) for r in rows]
                    for project in others:
                        project(conn, stored)
                    position = rows[-1].position
            names = ", ".join(f"{getattr(p, '__module__', '')}.{getattr(p, '__qualname__', p)}"
                              for p in others)
            log(f"web: fed every event to {names} in {time.monotonic() - started:.0f} s")
    finally:
        store.engine.dispose()


def sample_streams(plans: Sequence[SourcePlan], seed: int,
                   count: int = SAMPLE_STREAMS) -> list[str]:
    """The named sources, every rare-phrase source, and a random draw of the rest."""
    rng = random.Random(f"sample:{seed}")
    named = [p.name for p in plans if p.special or p.rare]
    rest = [p.name for p in plans if not (p.special or p.rare)]
    return named + rng.sample(rest, min(len(rest), max(0, count - len(named))))


def verify_sample(engine: Engine, stream_ids: Sequence[str], log: Log,
                  scratch: Path | None = None) -> None:
    """`monitor verify` on the sampled streams, copied to a scratch SQLite store:
    raises when any problem is found."""
    started = time.monotonic()
    folder = scratch or Path(os.environ.get("TMPDIR", "/tmp")) / f"web-verify-{uuid.uuid4().hex}"
    folder.mkdir(parents=True, exist_ok=True)
    target = open_engine(f"sqlite:///{folder / 'sample.db'}")
    try:
        migrate.upgrade(target)
        copy_store(engine, target, lambda line: None, stream_ids)
        report = verify_log(target)
        with target.connect() as conn:
            counted = conn.execute(select(func.count()).select_from(versions)).scalar_one()
    finally:
        target.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    if report.problems:
        raise RuntimeError("the bulk-filled store does not verify: " + "; ".join(
            report.problems[:5]))
    log(f"web: monitor verify on {len(stream_ids)} sampled streams ({report.events_checked} "
        f"events, {report.blobs_checked} blobs, {counted} versions, "
        f"{report.projection_rows} projection rows replayed through projections.apply): "
        f"intact, in {time.monotonic() - started:.0f} s")



@contextmanager
def postgres_copy(base_url: str, sqlite_path: Path, log: Log) -> Iterator[str]:
    """A copy of the SQLite store in a PostgreSQL schema of its own (then its search
    index and other projectors made there, and a sample verified): the URL that opens
    it. The schema is dropped afterwards."""
    with postgres_schema(base_url) as url:
        engine = open_engine(url)
        source = open_engine(f"sqlite:///{sqlite_path}", read_only=True)
        try:
            migrate.upgrade(engine)
            copy_store(source, engine, log)
            finish_projections(engine, log)
            with engine.connect() as conn:  # what autovacuum would soon do after a load
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            with source.connect() as conn:
                every = list(conn.execute(select(sources.c.stream_id)).scalars())
            rng = random.Random("sample:postgres")
            verify_sample(engine, rng.sample(every, min(len(every), SAMPLE_STREAMS)), log)
        finally:
            source.dispose()
            engine.dispose()
        yield url
