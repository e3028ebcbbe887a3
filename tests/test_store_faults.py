"""Database trouble is named truly, and no driver exception escapes the store."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import monitor
from sqlalchemy import event, func, select, text

from monitor.errors import (
    ConcurrencyConflict,
    ConstraintViolated,
    DataRejected,
    SchemaError,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    StoreUnavailable,
)
from monitor.events import FetchFailedEvent, SourceRegistered, VersionCaptured
from monitor.store import migrate, open_store
from monitor.store.schema import blobs
from monitor.store.snapshots import Blob
from monitor.store.verify import verify_log

CLOSED_PORT_URL = "postgresql://postgres:sekret@127.0.0.1:1/test"


def _registered(name: str = "doc") -> SourceRegistered:
    return SourceRegistered(name=name, url=f"http://127.0.0.1/{name}", kind="html",
                            interval_seconds=60)


def _captured(title: str) -> tuple[VersionCaptured, Blob]:
    blob = Blob.text(f"title: {title}\n")
    return VersionCaptured(content_hash=blob.sha256, url="http://127.0.0.1/doc",
                           title=title), blob


def _blob_count(store) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())


def _sqlite_store(tmp_path: Path, query: str = ""):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'monitor.db'}{query}"
    store = open_store(url, check_schema=False)
    migrate.upgrade(store.engine)
    return url, store


def test_a_nul_in_an_event_is_refused_and_the_store_still_works(store) -> None:
    store.append("doc", 0, [_registered()])
    before = store.last_position()
    refused, blob = _captured("before\x00after")
    with pytest.raises(DataRejected) as caught:
        store.append("doc", 1, [refused], blobs=[blob])
    assert "data.title holds a NUL character" in str(caught.value)
    assert (store.last_position(), store.stream_version("doc")) == (before, 1)
    assert _blob_count(store) == 0  # rolled back: nothing half-written
    accepted, blob = _captured("before after")
    store.append("doc", 1, [accepted], blobs=[blob])
    assert [e.type for e in store.read_stream("doc")] == ["SourceRegistered", "VersionCaptured"]
    assert verify_log(store.engine).intact


def test_a_value_postgresql_refuses_is_a_persistence_error_not_a_driver_error(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    try:
        with pytest.raises(DataRejected, match=r"refused a value .*too long"):
            store.append("x" * 300, 0, [_registered()])  # stream_id is VARCHAR(200)
        assert store.last_position() == 0
        store.append("doc", 0, [_registered()])
        assert store.stream_version("doc") == 1
    finally:
        store.engine.dispose()


def test_a_broken_constraint_other_than_the_version_is_named_not_a_conflict(store) -> None:
    store.append("one", 0, [_registered("same-name")])
    with pytest.raises(ConstraintViolated) as caught:
        store.append("two", 0, [_registered("same-name")])  # sources.name is UNIQUE
    assert not isinstance(caught.value, ConcurrencyConflict)
    assert caught.value.constraint in ("sources.name", "sources_name_key")
    assert caught.value.constraint in str(caught.value)
    assert store.stream_version("two") == 0
    store.append("two", 0, [_registered("other-name")])
    assert store.stream_version("two") == 1


def test_a_stale_version_is_still_a_concurrency_conflict(store) -> None:
    store.append("doc", 0, [_registered()])
    with pytest.raises(ConcurrencyConflict):
        store.append("doc", 0, [_registered()])


def test_postgresql_down_says_cannot_connect_to_host_and_port_never_the_password(
    tmp_path: Path,
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        open_store(CLOSED_PORT_URL)
    message = str(caught.value)
    assert "cannot connect to PostgreSQL at 127.0.0.1:1/test" in message
    assert "refused" in message and "sekret" not in message and "init" not in message
    for command in ("sources", "init", "check"):
        result = monitor("--database", CLOSED_PORT_URL, command, cwd=tmp_path)
        assert result.code == 1, (command, result.err)
        assert "cannot connect to PostgreSQL at 127.0.0.1:1" in result.err
        assert "sekret" not in result.err and "init" not in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_a_full_disk_is_named_and_nothing_is_half_written(tmp_path: Path) -> None:
    _, store = _sqlite_store(tmp_path)
    store.append("doc", 0, [_registered()])
    store.engine.dispose()
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def full(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    store.engine.dispose()
    event.listen(store.engine, "connect", full)
    big = [FetchFailedEvent(kind="timeout", message="x" * 50_000) for _ in range(3)]
    with pytest.raises(StoreFull, match=r"disk full: the store .*monitor.db cannot grow"):
        store.append("doc", 1, big)
    event.remove(store.engine, "connect", full)
    store.engine.dispose()
    assert store.stream_version("doc") == 1
    store.append("doc", 1, big)
    assert verify_log(store.engine).intact
    store.engine.dispose()


def test_a_locked_store_is_named_locked_after_the_busy_timeout(tmp_path: Path) -> None:
    url, store = _sqlite_store(tmp_path, "?timeout=0.2")
    store.append("doc", 0, [_registered()])
    other = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        with pytest.raises(StoreLocked, match=r"monitor.db is locked by another process "
                                              r"\(waited 0.2 s\)"):
            store.append("doc", 1, [FetchFailedEvent(kind="timeout", message="m")])
        result = monitor("--database", url, "rebuild", cwd=tmp_path)
        assert result.code == 1 and "is locked by another process" in result.err
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.append("doc", 1, [FetchFailedEvent(kind="timeout", message="m")])
    assert store.stream_version("doc") == 2
    store.engine.dispose()


def test_a_write_through_a_read_only_open_is_named_read_only(store, db_url: str) -> None:
    store.append("doc", 0, [_registered()])
    reader = open_store(db_url, read_only=True)
    try:
        assert reader.stream_version("doc") == 1
        with pytest.raises(StoreReadOnly, match=r"is read-only .*mounted read-only"):
            reader.append("doc", 1, [FetchFailedEvent(kind="timeout", message="m")])
    finally:
        reader.engine.dispose()
    assert store.stream_version("doc") == 1


def test_an_uninitialized_store_says_run_init(db_url: str) -> None:
    with pytest.raises(SchemaError, match=r"is not initialized; run `monitor init`"):
        open_store(db_url)


def test_a_schema_too_old_or_too_new_says_which(store, db_url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    with pytest.raises(SchemaError, match=r"older than this program's .* run `monitor init`"):
        open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="9999, newer than this program knows"):
        open_store(db_url)


def _write_protected_copy(tmp_path: Path, workdir: Path) -> Path:
    """The store copied as evidence is kept: a 0444 file in a 0555 directory."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(workdir / "var" / "monitor.db", evidence / "monitor.db")
    (evidence / "monitor.db").chmod(0o444)
    evidence.chmod(0o555)
    return evidence / "monitor.db"


def test_read_only_commands_work_on_a_write_protected_copy_and_leave_it_as_it_is(
    tmp_path: Path,
) -> None:
    from conftest import REPO

    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copy(REPO / "monitor.toml", workdir / "monitor.toml")
    shutil.copytree(REPO / "snapshots", workdir / "snapshots")
    assert monitor("init", cwd=workdir).code == 0
    assert not (workdir / "var" / "monitor.db-wal").exists()  # closed cleanly
    copy = _write_protected_copy(tmp_path, workdir)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    url = f"sqlite:///{copy}"
    name = "mfa-2025-12-11-human-rights-penitentiary-en"
    try:
        verified = monitor("--database", url, "verify", cwd=tmp_path)
        assert verified.code == 0 and "log intact: 2 events" in verified.out, verified.err
        for command in (["sources"], ["events"], ["history", name], ["show", name],
                        ["report", "--since", "2000-01-01"], ["diff", name]):
            result = monitor("--database", url, *command, cwd=tmp_path)
            assert result.code in (0, 2), (command, result.err)
            assert "Traceback" not in result.err and "internal error" not in result.err
        assert sorted(p.name for p in copy.parent.iterdir()) == ["monitor.db"]
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
        reader = open_store(url, read_only=True)
        with pytest.raises(StoreReadOnly):
            reader.append(name, 2, [FetchFailedEvent(kind="timeout", message="m")])
        reader.engine.dispose()
        assert sorted(p.name for p in copy.parent.iterdir()) == ["monitor.db"]
    finally:
        copy.parent.chmod(0o755)


def test_reading_a_live_store_sees_what_its_writer_just_wrote(tmp_path: Path) -> None:
    url, store = _sqlite_store(tmp_path)
    store.append("doc", 0, [_registered()])  # in the -wal file, not yet checkpointed
    reader = open_store(url, read_only=True)
    assert reader.stream_version("doc") == 1
    store.append("doc", 1, [FetchFailedEvent(kind="timeout", message="m")])
    assert reader.stream_version("doc") == 2
    reader.engine.dispose()
    store.engine.dispose()


def test_a_store_on_a_read_only_filesystem_is_named_so_and_listings_still_work(
    tmp_path: Path,
) -> None:
    import subprocess

    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {made.stderr.strip()}")
    try:
        url = f"sqlite:///{mount / 'monitor.db'}"
        store = open_store(url, check_schema=False)
        migrate.upgrade(store.engine)
        store.append("doc", 0, [_registered()])
        store.engine.dispose()  # the last close folds the -wal file into the store
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(mount)],
                                   capture_output=True, text=True)
        assert remounted.returncode == 0, remounted.stderr
        with pytest.raises(StoreReadOnly, match="is on a read-only filesystem"):
            writer = open_store(url)
            try:
                writer.append("doc", 1, [FetchFailedEvent(kind="timeout", message="m")])
            finally:
                writer.engine.dispose()
        listed = monitor("--database", url, "alerts", cwd=tmp_path)
        assert listed.code == 0, listed.err
        sources = monitor("--database", url, "sources", cwd=tmp_path)
        assert sources.code == 0 and "doc" in sources.out, sources.err
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
