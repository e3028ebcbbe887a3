"""What people read is what `verify` checks: the projections `report`, `show` and
`history` read are compared with a replay of the log, and a row edited, deleted or
added by hand is named (table, key, column, stored and replayed values), on SQLite
and PostgreSQL. `monitor rebuild` puts them back. And `show --raw` hands out the
fetched bytes kept as evidence, exactly."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from change_story import PRESS_URL, V2, Story, record_story
from cli_helpers import Result, child_environment, monitor
from sqlalchemy import text

from monitor.events import SourceRegistered, VersionCaptured
from monitor.store import EventStore
from monitor.store.replay_check import check_projections
from monitor.store.snapshots import Blob


@pytest.fixture
def story(store: EventStore) -> Story:
    return record_story(store)


def verify(db_url: str, tmp_path: Path, *args: str) -> Result:
    return monitor("verify", *args, cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url})


def tamper(store: EventStore, sql: str, **params: object) -> None:
    with store.engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1


def change_position(store: EventStore, event_id: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("select position from events where event_id = :id"),
                                {"id": event_id}).scalar_one())


def test_an_intact_store_passes_and_counts_the_rows_compared(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    result = verify(db_url, tmp_path)
    assert result.code == 0, result.out + result.err
    checked = check_projections(store.engine)
    assert checked.differences == []
    # 5 sources, 8 versions, 6 changes: every stored row was compared
    assert checked.rows_compared == 5 + 8 + 6
    assert f"{checked.rows_compared} projection rows match a replay of the log" in result.out
    assert verify(db_url, tmp_path, "--format", "json").json()["projection_rows"] == 19


def test_an_edited_change_is_named_column_by_column(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    position = change_position(store, story.number_edit)
    tamper(store, "update changes set significance = 'low', summary = 'typo fixed' "
                  "where event_position = :p", p=position)
    result = verify(db_url, tmp_path)
    assert result.code == 1
    where = f"ALTERED: projection changes[event_position={position}]"
    assert f"{where}: significance stored 'low', the log says 'high'" in result.out
    assert f"{where}: summary stored 'typo fixed', the log says '" in result.out
    assert "`monitor rebuild`" in result.out
    problems = verify(db_url, tmp_path, "--format", "json").json()["problems"]
    assert len(problems) == 2  # nothing else is blamed


def test_a_deleted_version_is_named(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    tamper(store, "delete from versions where stream_id = 'mfa-press' and "
                  "document_version = 2")
    result = verify(db_url, tmp_path)
    assert result.code == 1
    assert ("projection versions[stream_id='mfa-press', document_version=2]: missing "
            "(the log has this row)") in result.out


def test_an_inserted_fake_change_is_named(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    tamper(store, "insert into changes (event_position, event_id, stream_id, kind, "
                  "detected_at, significance, classes, summary) values (9999, 'fake', "
                  "'mfa-press', 'changed', '2025-12-12 10:00:00', 'high', '[]', 'forged')")
    tamper(store, "insert into changes (event_position, event_id, stream_id, kind, "
                  "detected_at, significance, classes, summary) values (9998, 'fake2', "
                  "'nobody', 'changed', '2025-12-12 10:00:00', 'high', '[]', 'forged')")
    result = verify(db_url, tmp_path)
    assert result.code == 1
    assert ("projection changes[event_position=9999]: not in the log (no event makes "
            "this row)") in result.out
    assert ("projection changes: 1 row of stream 'nobody', which has no event in the log"
            in result.out)


def test_a_modified_source_url_is_named_and_rebuild_repairs_it(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    tamper(store, "update sources set url = 'https://evil.example/x' "
                  "where stream_id = 'mfa-notice'")
    result = verify(db_url, tmp_path)
    assert result.code == 1
    assert ("projection sources[stream_id='mfa-notice']: url stored "
            "'https://evil.example/x', the log says "
            "'https://www.gov.kz/memleket/entities/mfa/press/notice'") in result.out
    rebuilt = monitor("rebuild", cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url})
    assert rebuilt.code == 0, rebuilt.err
    assert verify(db_url, tmp_path).code == 0


def test_an_unreadable_value_is_named_not_a_traceback(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses text in a timestamp column itself")
    tamper(store, "update versions set captured_at = 'yesterday' "
                  "where stream_id = 'mfa-press' and document_version = 1")
    result = verify(db_url, tmp_path)
    assert result.code == 1, result.err
    assert ("projection versions rows of stream 'mfa-press': stored values do not read "
            "back") in result.out


def test_at_most_max_differences_are_named(store: EventStore, story: Story) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("update changes set summary = 'x'"))
    checked = check_projections(store.engine, max_differences=2)
    assert len(checked.differences) == 2


# --- show --raw: the fetched bytes kept as evidence ------------------------------
def show(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """In its own process: what reaches standard output is bytes, and they matter."""
    env = {**child_environment(), "MONITOR_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "monitor", "show", *args], cwd=tmp_path,
                          env=env, capture_output=True, timeout=120)


def test_show_raw_prints_the_kept_bytes_as_they_are(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    kept = f"<html>{V2.canonical_text()}</html>".encode()
    shown = show(db_url, tmp_path, "mfa-press@2", "--raw")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == kept
    target = tmp_path / "capture.html"
    written = show(db_url, tmp_path, "mfa-press@2", "--raw", "--output", str(target))
    assert written.returncode == 0 and written.stdout == b""
    assert target.read_bytes() == kept
    described = json.loads(show(db_url, tmp_path, "mfa-press@2", "--raw", "--format",
                                "json").stdout)
    assert base64.b64decode(described["content_base64"]) == kept
    assert described["raw_hash"] == hashlib.sha256(kept).hexdigest()


def test_show_raw_of_a_baseline_says_there_is_none(
        store: EventStore, story: Story, db_url: str, tmp_path: Path) -> None:
    shown = show(db_url, tmp_path, "mfa-press@1", "--raw")
    assert shown.returncode == 2
    lines = shown.stderr.decode().splitlines()
    assert lines == ["error: mfa-press@1 has no raw capture: it was imported as a baseline "
                     "from its text; `monitor show mfa-press@1` prints its text"]
    assert shown.stdout == b""
    alone = show(db_url, tmp_path, "mfa-press@2", "--output", str(tmp_path / "x"))
    assert alone.returncode == 2 and b"--output goes with --raw" in alone.stderr


def on_terminal(db_url: str, tmp_path: Path, *args: str) -> tuple[int, bytes, bytes]:
    leader, follower = pty.openpty()
    env = {**child_environment(), "MONITOR_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "show", *args], cwd=tmp_path,
                            env=env, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    code = proc.wait(timeout=60)
    assert proc.stderr is not None
    return code, out, proc.stderr.read()


def test_show_raw_refuses_binary_on_a_terminal_and_defuses_text(
        store: EventStore, db_url: str, tmp_path: Path) -> None:
    pdf = Blob.raw(b"%PDF-1.7\n\x00\x01\xff binary")
    page = Blob.raw(b"<html>\x1b[2Jcleared?</html>")
    text = Blob.text("title: A\ndate:\n\nBody.")
    store.append("doc", 0, [SourceRegistered(name="doc", url=PRESS_URL, kind="govkz",
                                             interval_seconds=900)])
    for raw in (pdf, page):
        store.append("doc", store.stream_version("doc"), [VersionCaptured(
            content_hash=text.sha256, url=PRESS_URL, raw_hash=raw.sha256)],
            blobs=[text, raw])
    code, out, err = on_terminal(db_url, tmp_path, "doc@1", "--raw")
    assert code == 2 and out == b""
    size = len(pdf.content)
    assert err.decode().strip() == (f"error: doc@1: the raw capture is binary ({size} bytes) "
                                    "and standard output is a terminal: use --output FILE, "
                                    "or pipe it")
    code, out, err = on_terminal(db_url, tmp_path, "doc@2", "--raw")
    assert code == 0, err
    assert b"\x1b" not in out and b"cleared?" in out
