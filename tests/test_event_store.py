"""The event log: atomic appends, optimistic concurrency, gapless following, hash chain."""

from __future__ import annotations

import json
import threading

import pytest
from forked import forkserver
from sqlalchemy import Text, cast, delete, select, text, update

from monitor.errors import ConcurrencyConflict, PersistenceError
from monitor.events import ChangeDetected, FetchFailedEvent, SourceRecovered, SourceRegistered
from monitor.store import migrate, open_store
from monitor.store.packing import pack, unpack
from monitor.store.schema import events
from monitor.store.verify import verify_log

WRITERS = 8
ROUNDS = 12
EVENTS_PER_APPEND = 3


def _registered(name: str = "doc") -> SourceRegistered:
    return SourceRegistered(name=name, url=f"http://127.0.0.1/{name}", kind="html",
                            interval_seconds=60)


def _failure(writer: int, round_: int, part: int) -> FetchFailedEvent:
    return FetchFailedEvent(kind="timeout", message=f"writer {writer} round {round_} part {part}")


def _race_writer(url: str, writer: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    store = open_store(url)
    for round_ in range(ROUNDS):
        barrier.wait(timeout=60)
        expected = 1 + round_ * EVENTS_PER_APPEND
        batch = [_failure(writer, round_, part) for part in range(EVENTS_PER_APPEND)]
        try:
            store.append("doc", expected, batch)
            results.put((round_, writer, "ok"))
        except ConcurrencyConflict:
            results.put((round_, writer, "conflict"))
    store.engine.dispose()


@pytest.mark.slow
def test_racing_writers_get_one_append_per_version(store, db_url: str) -> None:
    store.append("doc", 0, [_registered()])
    ctx = forkserver(__name__)
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [ctx.Process(target=_race_writer, args=(db_url, w, barrier, results))
             for w in range(WRITERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(WRITERS * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    for round_ in range(ROUNDS):
        in_round = [o for o in outcomes if o[0] == round_]
        assert sorted(o[2] for o in in_round) == ["conflict"] * (WRITERS - 1) + ["ok"]

    stored = store.read_stream("doc")
    assert [e.version for e in stored] == list(range(1, 2 + ROUNDS * EVENTS_PER_APPEND))
    for round_ in range(ROUNDS):
        group = stored[1 + round_ * EVENTS_PER_APPEND: 1 + (round_ + 1) * EVENTS_PER_APPEND]
        writers = {e.data["message"].split()[1] for e in group}
        assert len(writers) == 1, "an append was interleaved with another writer's"
        winner = next(o[1] for o in outcomes if o[0] == round_ and o[2] == "ok")
        assert writers == {str(winner)}
    assert verify_log(store.engine).intact


def test_stale_expected_version_writes_nothing(store) -> None:
    store.append("doc", 0, [_registered()])
    before = store.last_position()
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append("doc", 0, [_failure(0, 0, 0), _failure(0, 0, 1)])
    assert "expected version 0" in str(caught.value)
    assert store.last_position() == before
    assert store.stream_version("doc") == 1


def test_failing_projection_rolls_back_the_whole_append(store) -> None:
    store.append("doc", 0, [_registered()])

    def broken(conn, stored):  # type: ignore[no-untyped-def]
        raise RuntimeError("projection crashed")

    store.projectors.append(broken)
    with pytest.raises(RuntimeError):
        store.append("doc", 1, [SourceRecovered(failures=1)])
    store.projectors.remove(broken)
    assert store.stream_version("doc") == 1
    assert [e.type for e in store.read_all()] == ["SourceRegistered"]


def _appender(url: str, writer: int, count: int) -> None:
    store = open_store(url)
    stream = f"w{writer}"
    store.append(stream, 0, [_registered(stream)])
    for i in range(1, count):
        store.append(stream, i, [_failure(writer, i, 0)])
    store.engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("processes,per_process", [(4, 60)])
def test_follower_tailing_by_position_never_misses_an_event(
    store, db_url: str, processes: int, per_process: int
) -> None:
    total = processes * per_process
    seen: list[int] = []
    done = threading.Event()

    def follow() -> None:
        follower = open_store(db_url)
        position = 0
        while len(seen) < total and not done.is_set():
            for event in follower.read_all(position, limit=500):
                seen.append(event.position)
                position = event.position
        follower.engine.dispose()

    tail = threading.Thread(target=follow)
    tail.start()
    ctx = forkserver(__name__)
    procs = [ctx.Process(target=_appender, args=(db_url, w, per_process))
             for w in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    tail.join(timeout=120)
    done.set()
    all_positions = [e.position for e in store.read_all()]
    assert len(all_positions) == total
    assert seen == all_positions, "the follower skipped or reordered events"


def test_verify_passes_on_an_untouched_log(store) -> None:
    store.append("doc", 0, [_registered(), _failure(0, 0, 0)])
    store.append("other", 0, [_registered("other")])
    report = verify_log(store.engine)
    assert report.intact
    assert (report.events_checked, report.streams_checked) == (3, 2)


def test_event_data_is_stored_compactly_and_rows_written_before_still_verify(store) -> None:
    failed = FetchFailedEvent(kind="timeout", message="Сервер не ответил")
    store.append("doc", 0, [_registered(), failed])
    at_version_2 = events.c.version == 2
    with store.engine.connect() as conn:
        stored = conn.execute(select(cast(events.c.data, Text)).where(at_version_2)).scalar()
    # no spaces, Cyrillic as UTF-8 (2 bytes a letter, not a 6-byte \\u escape)
    assert stored == '{"kind":"timeout","message":"Сервер не ответил","status":null}'
    # A row as every store wrote it before: spaces and escapes. It reads and verifies alike.
    before = json.dumps({"kind": "timeout", "message": "Сервер не ответил", "status": None})
    value = "CAST(:d AS JSON)" if store.engine.dialect.name == "postgresql" else ":d"
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE events SET data = {value} WHERE version = 2"), {"d": before})
        assert "\\u0421" in conn.execute(select(cast(events.c.data, Text))
                                        .where(at_version_2)).scalar()
    assert store.read_stream("doc")[1].event == failed
    assert verify_log(store.engine).intact


def test_a_change_is_stored_packed_and_reads_and_verifies_as_recorded(store) -> None:
    paragraph = "Министерство утвердило план развития на 2026 год. " * 4
    ops = [["equal", paragraph], ["replace", "план", "проект"], ["equal", paragraph]]
    change = ChangeDetected(
        from_hash="a" * 64, to_hash="b" * 64, significance="medium", classes=("wording",),
        summary="1 wording edit in paragraph 2", change={"hunks": [
            {"kind": "wording", "old_index": 1, "new_index": 1, "classes": ["wording"],
             "ops": ops}], "new_title": "Новости", "new_published": None})
    written = store.append("doc", 0, [_registered(), change])
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT data FROM events WHERE version = 2")).scalar()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert list(stored) == ["~z1"]
    plain = json.dumps(written[1].data)  # what every store wrote before packing
    assert len(json.dumps(stored)) < len(plain) / 3
    assert store.read_stream("doc")[1].event == change
    assert store.read_all()[1] == written[1]
    assert verify_log(store.engine).intact
    # A change row as written before packing existed reads and verifies alike.
    value = "CAST(:d AS JSON)" if store.engine.dialect.name == "postgresql" else ":d"
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE events SET data = {value} WHERE version = 2"), {"d": plain})
    assert store.read_stream("doc")[1] == written[1]
    assert verify_log(store.engine).intact
    # A packed row altered (here: the same payload with one word changed) is named.
    with store.engine.begin() as conn:
        forged = pack(change.type, {**written[1].data, "summary": "nothing"})
        conn.execute(update(events).where(events.c.version == 2).values(data=forged))
    assert "altered" in verify_log(store.engine).problems[0]
    with store.engine.begin() as conn:  # damaged beyond unpacking: named all the same
        conn.execute(update(events).where(events.c.version == 2)
                     .values(data={"~z1": forged["~z1"][:40]}))
    assert "altered" in verify_log(store.engine, max_problems=1).problems[0]
    with pytest.raises(PersistenceError, match="dictionary 9"):  # written by a newer program
        unpack({"~z9": forged["~z1"]})


def test_verify_names_an_edited_event(store) -> None:
    store.append("doc", 0, [_registered(), _failure(0, 0, 0), _failure(0, 0, 1)])
    with store.engine.begin() as conn:
        conn.execute(update(events).where(events.c.version == 2)
                     .values(data={"kind": "timeout", "message": "rewritten", "status": None}))
    report = verify_log(store.engine)
    assert not report.intact
    assert "stream 'doc' event 2" in report.problems[0]
    assert "altered" in report.problems[0]


def test_verify_names_a_deleted_event(store) -> None:
    store.append("doc", 0, [_registered(), _failure(0, 0, 0), _failure(0, 0, 1)])
    with store.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.version == 2))
    report = verify_log(store.engine)
    assert "event 2 is missing" in report.problems[0]


def test_verify_notices_the_last_event_deleted(store) -> None:
    store.append("doc", 0, [_registered(), _failure(0, 0, 0)])
    with store.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.version == 2))
    report = verify_log(store.engine)
    assert "event 2 is missing" in report.problems[0]


def test_upgrade_from_empty_to_head_and_back_down(db_url: str) -> None:
    s = open_store(db_url, check_schema=False)
    assert migrate.current_revision(s.engine) is None
    migrate.upgrade(s.engine)
    assert migrate.current_revision(s.engine) == migrate.head_revision()
    migrate.downgrade(s.engine)  # an empty store may go down (one with events may not)
    assert migrate.current_revision(s.engine) is None
    with s.engine.connect() as conn:
        if s.engine.dialect.name == "sqlite":
            names = {r[0] for r in conn.execute(text("select name from sqlite_master "
                                                     "where type='table'"))}
        else:
            names = {r[0] for r in conn.execute(text(
                "select tablename from pg_tables where schemaname = current_schema()"))}
    assert "events" not in names and "sources" not in names
    migrate.upgrade(s.engine)
    assert s.read_all() == []
    s.engine.dispose()


def test_types_since_tells_a_follower_whether_the_catalog_changed(store) -> None:
    store.append("doc", 0, [_registered()])
    start = store.last_position()
    store.append("doc", 1, [_failure(0, 0, 0)])
    last, changed = store.types_since(start, {"SourceRegistered", "SourcePaused"})
    assert (last, changed) == (start + 1, False)
    store.append("other", 0, [_registered("other")])
    last, changed = store.types_since(start, {"SourceRegistered"})
    assert last == start + 2 and changed
    assert store.types_since(last, {"SourceRegistered"}) == (last, False)


def test_a_number_too_big_for_the_database_is_rejected_naming_its_field(store) -> None:
    from monitor.errors import DataRejected

    huge = SourceRegistered(name="doc", url="http://127.0.0.1/doc", kind="html",
                            interval_seconds=2**70)
    with pytest.raises(DataRejected, match="interval_seconds") as caught:
        store.append("doc", 0, [huge])
    assert "\n" not in str(caught.value) and "nothing was written" in str(caught.value)
    assert store.read_all() == [] and store.stream_version("doc") == 0


def test_the_writer_lock_is_handed_on_however_a_write_ends(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The threads of a process queue for SQLite's write lock on a lock of the engine's
    (monitor.store.database): a write that fails, or a connection dropped mid-write,
    must hand it on, or every later write would first wait out the busy timeout."""
    import gc
    import time
    import warnings

    from monitor.store.database import WRITE, open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'lock.db'}?timeout=3")
    try:
        for _ in range(2):
            with pytest.raises(ZeroDivisionError), \
                    engine.connect().execution_options(**WRITE) as conn, conn.begin():
                raise ZeroDivisionError
        dropped = engine.connect().execution_options(**WRITE)
        dropped.begin()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's note of the dropped connection
            del dropped
            gc.collect()
        started = time.monotonic()
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            pass
        assert time.monotonic() - started < 2  # a leaked lock: the 3 s timeout first
    finally:
        engine.dispose()
