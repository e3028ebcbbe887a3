"""The log survives operators: a rebuild on a live store, a downgrade, a clock that jumped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import monitor
from sqlalchemy import select, text

from monitor.errors import SchemaError
from monitor.events import FetchFailedEvent, SourceRegistered, VersionCaptured
from monitor.store import migrate, open_store, projections
from monitor.store.queries import table_rows
from monitor.store.schema import PROJECTION_TABLES, sources
from monitor.store.snapshots import Blob
from monitor.store.verify import verify_log

STREAMS = 4
REBUILDS = 6


def _registered(name: str) -> SourceRegistered:
    return SourceRegistered(name=name, url=f"http://127.0.0.1/{name}", kind="html",
                            interval_seconds=60)


def _projections(engine) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    return {t.name: table_rows(engine, t) for t in PROJECTION_TABLES}


def _append_versions(url: str, stop: threading.Event, errors: list[BaseException]) -> None:
    """Capture a new version of every stream, round after round, as checks do."""
    writer = open_store(url)
    try:
        round_ = 0
        while not stop.is_set():
            round_ += 1
            for n in range(STREAMS):
                blob = Blob.text(f"doc {n} round {round_}\n")
                writer.append(f"doc{n}", round_, [VersionCaptured(
                    content_hash=blob.sha256, url=f"http://127.0.0.1/doc{n}",
                    title=f"round {round_}")], blobs=[blob])
            stop.wait(0.005)  # a busy site, not a flood: keeps the log small, the test fast
    except BaseException as exc:  # the test reports it
        errors.append(exc)
    finally:
        writer.engine.dispose()


def _wait_for(store, position: int) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while (last := store.last_position()) < position and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(last)


def test_rebuild_while_checks_append_equals_a_fresh_rebuild(store, db_url: str) -> None:
    for n in range(STREAMS):
        store.append(f"doc{n}", 0, [_registered(f"doc{n}")])
    stop, errors = threading.Event(), []  # type: ignore[var-annotated]
    appender = threading.Thread(target=_append_versions, args=(db_url, stop, errors))
    appender.start()
    try:
        started = _wait_for(store, 3 * STREAMS)
        for _ in range(REBUILDS):
            projections.rebuild(store.engine, batch=5)  # small batches: many statements each
            time.sleep(0.02)  # SQLite's busy wait is not a queue: let the appender in
        ended = store.last_position()
    finally:
        stop.set()
        appender.join(timeout=60)
    assert not errors, errors
    assert ended > started + STREAMS, "nothing was appended while the rebuilds ran"
    live = _projections(store.engine)
    projections.rebuild(store.engine)
    assert _projections(store.engine) == live
    with store.engine.connect() as conn:
        counted = conn.execute(select(sources.c.stream_id, sources.c.document_version)).all()
    for stream_id, document_version in counted:  # one version per event after the first
        assert document_version == store.stream_version(stream_id) - 1


def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "select name from sqlite_master where type='table'"
        else:
            query = "select tablename from pg_tables where schemaname = current_schema()"
        return {r[0] for r in conn.execute(text(query))}


def test_a_downgrade_refuses_to_drop_a_log_that_holds_events(store) -> None:
    store.append("doc", 0, [_registered("doc"), FetchFailedEvent(kind="timeout", message="m")])
    with pytest.raises(SchemaError) as caught:
        migrate.downgrade(store.engine, "base")
    message = str(caught.value)
    assert message.startswith("refusing to downgrade below 0001")
    assert "events (the event log) has 2 rows" in message and "Nothing was changed" in message
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert [e.type for e in store.read_all()] == ["SourceRegistered", "FetchFailed"]
    assert verify_log(store.engine).intact


def test_alembic_downgrade_base_from_the_command_line_refuses_too(store, db_url: str) -> None:
    from alembic.config import Config
    from conftest import REPO

    from alembic import command

    store.append("doc", 0, [_registered("doc")])
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    with pytest.raises(SchemaError, match="refusing to downgrade below 0001"):
        command.downgrade(config, "base")
    assert "events" in _tables(store.engine)
    assert len(store.read_all()) == 1


def _clock(*moments: datetime) -> Iterator[datetime]:
    yield from moments


def test_verify_warns_when_a_streams_clock_went_back(db_url: str, tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, 12, 0, 0)
    moments = _clock(start, start + timedelta(minutes=5), start + timedelta(minutes=2),
                     start + timedelta(minutes=9), start)
    s = open_store(db_url, check_schema=False, clock=lambda: next(moments))
    migrate.upgrade(s.engine)
    s.append("doc", 0, [_registered("doc"), FetchFailedEvent(kind="timeout", message="a")])
    s.append("doc", 2, [FetchFailedEvent(kind="timeout", message="b")])  # 2 min < 5 min
    s.append("other", 0, [_registered("other")])  # 12:09 then 12:00: other streams differ
    s.append("other", 1, [FetchFailedEvent(kind="timeout", message="c")])
    report = verify_log(s.engine)
    assert report.intact
    assert len(report.warnings) == 2
    assert report.warnings[0] == (
        "stream 'doc': event 3 (position 3) was recorded at 2026-03-01T12:02:00.000000Z, before "
        "event 2 (2026-03-01T12:05:00.000000Z): the clock went back")
    assert report.warnings[1].startswith("stream 'other': event 2 (position 5)")
    result = monitor("--database", db_url, "verify", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "log intact: 5 events" in result.out
    assert f"WARNING: {report.warnings[0]}" in result.out
    s.engine.dispose()


def test_verify_warns_for_every_event_still_before_the_latest_moment_after_a_jump_back(
    db_url: str,
) -> None:
    start = datetime(2026, 3, 1, 12, 0, 0)
    moments = _clock(start, start + timedelta(minutes=10), start + timedelta(minutes=2),
                     start + timedelta(minutes=5), start + timedelta(minutes=11))
    s = open_store(db_url, check_schema=False, clock=lambda: next(moments))
    migrate.upgrade(s.engine)
    s.append("doc", 0, [_registered("doc")])
    for n, message in enumerate("abcd", start=1):  # 12:10, 12:02, 12:05 (< 12:10), 12:11
        s.append("doc", n, [FetchFailedEvent(kind="timeout", message=message)])
    report = verify_log(s.engine)
    assert report.intact
    assert len(report.warnings) == 2, report.warnings
    assert report.warnings[0].startswith("stream 'doc': event 3 (position 3)")
    assert report.warnings[1] == (
        "stream 'doc': event 4 (position 4) was recorded at 2026-03-01T12:05:00.000000Z, before "
        "event 2 (2026-03-01T12:10:00.000000Z): the clock went back")
    s.engine.dispose()


def _table_counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {name: conn.execute(text(f'select count(*) from "{name}"')).scalar_one()
                for name in sorted(_tables(engine))}


def _with_a_delivery(store) -> None:  # type: ignore[no-untyped-def]
    store.append("doc", 0, [_registered("doc"), FetchFailedEvent(kind="timeout", message="m")])
    with store.engine.begin() as conn:
        conn.execute(text(
            "insert into deliveries (alert_id, event_position, event_id, stream_id, channel, "
            "kind, summary, state, attempts, next_attempt_at, created_at) values ('a1', 2, "
            "'e', 'doc', 'hook', 'webhook', 's', 'delivered', 1, :t, :t)"),
            {"t": datetime(2026, 3, 1)})
        conn.execute(text("insert into dispatch_positions (name, position) values ('hook', 2)"))


def test_a_refused_alembic_downgrade_leaves_every_table_as_it_was(
    store, db_url: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from conftest import REPO

    _with_a_delivery(store)
    before = _table_counts(store.engine)
    env = {**os.environ, "MONITOR_DATABASE_URL": db_url}
    proc = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "downgrade", "base"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "refusing to downgrade below 0001" in proc.stderr
    store.engine.dispose()
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert _table_counts(store.engine) == before
    assert before["deliveries"] == 1 and before["dispatch_positions"] == 1


def test_a_refused_downgrade_through_the_program_leaves_every_table_as_it_was(store) -> None:
    _with_a_delivery(store)
    before = _table_counts(store.engine)
    with pytest.raises(SchemaError, match="refusing to downgrade below 0001"):
        migrate.downgrade(store.engine, "base")
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert _table_counts(store.engine) == before
