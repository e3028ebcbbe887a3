"""The web bench (bench/web_bench.py) on a tiny store, so that it does not rot: its
bulk load writes what EventStore.append writes, row for row, and `monitor verify`
finds it intact; the bench serves the app, times each page (a route the app does not
have yet is reported as such) and writes its section of the results. No timing is
asserted: speed is the bench's to report."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from conftest import REPO
from sqlalchemy import Engine, select
from sqlalchemy import text as sql_text

from monitor.store import migrate
from monitor.store.database import open_engine
from monitor.store.schema import blobs, changes, events, sources, streams, versions
from monitor.store.verify import verify_log

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench import web_bench
from bench.web_appends import append_for_real
from bench.web_fill import build_rows, cache_path, finish_projections, write
from bench.web_plan import Size

SIZE = Size(sources=12, versions=70, seed=3)
NOW = datetime(2026, 12, 1, 12, 0)
# Columns that differ between any two stores: random event ids, and the hashes over them.
UNIQUE = {"event_id", "prev_hash", "hash", "head_hash"}


def _rows(engine: Engine, table) -> list[tuple]:
    columns = [c for c in table.c if c.name not in UNIQUE]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(*columns).order_by(*table.primary_key.columns))]


def _store(path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine


def test_bulk_load_is_what_appends_write_and_the_bench_reports_every_page(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    built = build_rows(SIZE, lambda line: None, workers=1, now=NOW)
    bulk = _store(cache_path(work, SIZE))  # where the bench looks for its filled store
    write(bulk, built, lambda line: None)
    finish_projections(bulk, lambda line: None)
    real = _store(tmp_path / "real.db")
    real.dispose()
    append_for_real(f"sqlite:///{tmp_path / 'real.db'}", built.steps)
    try:
        for table in (events, streams, blobs, sources, versions, changes):
            assert _rows(bulk, table) == _rows(real, table), table.name
        stored = sql_text("SELECT position, data FROM events ORDER BY position")  # as stored
        with bulk.connect() as b, real.connect() as r:
            assert b.execute(stored).all() == r.execute(stored).all()
        with bulk.connect() as conn:
            states = set(conn.execute(select(sources.c.state)).scalars())
            counted = len(conn.execute(select(versions.c.stream_id)).all())
        assert counted == SIZE.versions
        assert {"active", "failing"} <= states
        report = verify_log(bulk)
        assert report.intact, report.problems
        assert report.projection_rows > SIZE.versions
    finally:
        bulk.dispose()
        real.dispose()

    lines: list[str] = []
    results = web_bench.run(SIZE, postgres=None, requests_count=3, peer=False, profile=False,
                            append_rate=False, work=work, workers=1, log=lines.append)
    assert any("reusing the filled store" in line for line in lines)
    [run] = results.runs
    assert [page.label for page, _ in run.timed] == [p.label for p in web_bench.pages()]
    for page, timed in run.timed:
        assert timed.measured or timed.note == "route not present", (page.path, timed)
    board = run.timed[0][1]
    assert board.status == 200 and board.requests == 3 and board.bytes > 1000
    assert board.app_median_ms is not None  # the app's Server-Timing header
    assert board.app_median_ms <= board.median_ms

    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark results\n\n## Targets\n\nkept\n", encoding="utf-8")
    for _ in range(2):
        web_bench.write_section(out, web_bench.section(results, "python -m bench.web_bench"))
    text = out.read_text(encoding="utf-8")
    assert text.count(web_bench.HEADING) == 1 and "## Targets\n\nkept" in text
    assert "| board, first page | < 300 ms |" in text
