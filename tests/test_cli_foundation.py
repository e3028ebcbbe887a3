"""The foundation as a user meets it: init, events, verify, rebuild, add, bad input."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from cli_helpers import monitor
from conftest import REPO

from monitor.store import open_store, projections
from monitor.store.queries import table_rows
from monitor.store.schema import PROJECTION_TABLES

SEED_NAME = "mfa-2025-12-11-human-rights-penitentiary-en"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding the shipped monitor.toml and snapshots, as in a checkout."""
    shutil.copy(REPO / "monitor.toml", tmp_path / "monitor.toml")
    shutil.copytree(REPO / "snapshots", tmp_path / "snapshots")
    return tmp_path


def test_init_records_registration_and_baseline_once(workdir: Path, db_url: str) -> None:
    env = {"MONITOR_DATABASE_URL": db_url}
    first = monitor("init", cwd=workdir, env=env)
    assert first.code == 0, first.err
    assert f"baseline imported as version 1 of {SEED_NAME}" in first.out
    again = monitor("init", cwd=workdir, env=env)
    assert again.code == 0, again.err
    assert "baseline imported" not in again.out

    listed = monitor("events", "--format", "json", cwd=workdir, env=env)
    lines = [line for line in listed.out.splitlines() if line.strip()]
    assert len(lines) == 2
    text_events = monitor("events", cwd=workdir, env=env).out
    assert "SourceRegistered" in text_events and "BaselineImported" in text_events

    verified = monitor("verify", cwd=workdir, env=env)
    assert verified.code == 0 and "log intact: 2 events in 1 stream verified" in verified.out


def test_show_prints_the_baseline_as_a_canonical_document(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    shown = monitor("show", f"{SEED_NAME}@1", cwd=workdir)
    assert shown.code == 0, shown.err
    assert shown.out.startswith("title:\ndate: 2025-12-11\n\nA scientific and practical")
    assert "Khojim\u0430tov" in shown.out  # the Cyrillic a is evidence, kept as captured
    assert "gov.kz" not in shown.out.splitlines()[3]
    history = monitor("history", SEED_NAME, "--format", "json", cwd=workdir).json()
    assert [v["origin"] for v in history["versions"]] == ["baseline"]
    captured = history["versions"][0]["captured_at"]  # ISO 8601 UTC, as events --json
    assert captured.endswith("Z") and datetime.fromisoformat(captured[:-1]).year >= 2026
    [source] = monitor("sources", "--format", "json", cwd=workdir).json()
    assert source["registered_at"].endswith("Z") and "T" in source["registered_at"]


def test_default_database_is_var_monitor_db_beside_the_config(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    assert (workdir / "var" / "monitor.db").exists()


def test_rebuild_reproduces_projections_row_for_row(db_url: str, workdir: Path) -> None:
    from monitor.events import (
        ChangeDetected,
        DocumentRemoved,
        FetchFailedEvent,
        SourcePaused,
        SourceRecovered,
        SourceResumed,
        VersionCaptured,
    )

    env = {"MONITOR_DATABASE_URL": db_url}
    assert monitor("init", cwd=workdir, env=env).code == 0
    s = open_store(db_url)
    v = s.stream_version(SEED_NAME)
    s.append(SEED_NAME, v, [
        FetchFailedEvent(kind="timeout", message="read timed out"),
        SourceRecovered(failures=1),
        VersionCaptured(content_hash="a" * 64, url="http://x/1", title="T"),
        ChangeDetected(from_hash="b" * 64, to_hash="a" * 64, significance="high",
                       classes=("number",), summary="1 number changed", change={}),
        SourcePaused(reason="test"), SourceResumed(),
        FetchFailedEvent(kind="not_found", message="404", status=404),
        DocumentRemoved(status=404, confirmations=3),
    ])
    assert monitor("add", "--no-probe", "http://127.0.0.1:9/page", "--name", "extra", cwd=workdir,
                   env=env).code == 0
    before = {t.name: table_rows(s.engine, t) for t in PROJECTION_TABLES}
    assert len(before["changes"]) == 2 and len(before["versions"]) == 2
    result = monitor("rebuild", cwd=workdir, env=env)
    assert result.code == 0 and "rebuilt from 11 events" in result.out
    after = {t.name: table_rows(s.engine, t) for t in PROJECTION_TABLES}
    assert after == before
    assert projections.rebuild(s.engine) == 11
    s.engine.dispose()


def test_add_from_file_registers_every_url_once(workdir: Path, tmp_path: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    urls = tmp_path / "urls.txt"
    urls.write_text("# ministries\nhttp://127.0.0.1:9/a\n\nhttp://127.0.0.1:9/b\n"
                    "https://www.gov.kz/memleket/entities/mfa/press/news/details/123?lang=ru\n")
    first = monitor("add", "--from-file", str(urls), "--interval", "30m", "--format", "json",
                    cwd=workdir).json()
    assert first["added"] == ["127-0-0-1-9-a", "127-0-0-1-9-b", "govkz-mfa-123-ru"]
    again = monitor("add", "--from-file", str(urls), "--format", "json", cwd=workdir).json()
    assert again["added"] == []
    listed = monitor("sources", "--format", "json", cwd=workdir).json()
    kinds = {s["name"]: (s["kind"], s["interval_seconds"]) for s in listed}
    assert kinds["govkz-mfa-123-ru"][0] == "govkz"
    assert kinds["127-0-0-1-9-a"] == ("html", 1800)  # a second add changes nothing unasked


@pytest.mark.parametrize("content,expected", [
    ("[defaults]\ninterval = '15x'\n", "defaults.interval: '15x' is not a duration"),
    ("[defaults]\nrepeat_failures_every = '-1h'\n", "defaults.repeat_failures_every: "),
    ("[[sources]]\nurl = 'ftp://x'\nname = 'a'\n", "sources[0].url: 'ftp://x' is not"),
    ("[[sources]]\nurl = 'http://x'\nname = 'a'\nkind = 'rss'\n",
     "sources[0].kind: unknown kind 'rss'"),
    ("[databse]\nurl = 'x'\n", "databse: unknown key"),
    ("this is not toml", "not valid TOML"),
])
def test_bad_config_is_one_line_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    result = monitor("--config", str(config), "sources", cwd=tmp_path, own_process=True)
    assert result.code == 2
    assert expected in result.err
    assert str(config) in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_commands_on_an_uninitialized_store_say_run_init(tmp_path: Path) -> None:
    result = monitor("sources", cwd=tmp_path)
    assert result.code != 0
    assert "run `monitor init`" in result.err
    assert not (tmp_path / "var").exists(), "a read-only command created a store"
    assert "Traceback" not in result.err


def test_unknown_source_and_bad_version_are_clear_errors(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    missing = monitor("history", "nope", cwd=workdir)
    assert missing.code == 2 and "no source named 'nope'" in missing.err
    bad = monitor("show", f"{SEED_NAME}@x", cwd=workdir)
    assert bad.code == 2 and "VERSION must be a number" in bad.err
    not_url = monitor("add", "gov.kz/page", cwd=workdir)
    assert not_url.code == 2 and "is not an http(s) URL" in not_url.err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = monitor("--debug", "sources", cwd=tmp_path, own_process=True)
    assert "Traceback" in result.err


def test_add_languages_links_three_translations(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    url = "https://www.gov.kz/memleket/entities/mfa/press/news/details/555?lang=ru"
    added = monitor("add", "--no-probe", url, "--languages", "ru,kk,en", "--format", "json",
                    cwd=workdir)
    assert added.code == 0, added.err
    assert added.json()["added"] == ["govkz-mfa-555-ru", "govkz-mfa-555-kk", "govkz-mfa-555-en"]
    shown = monitor("sources", "--show", "govkz-mfa-555-kk", "--format", "json",
                    cwd=workdir).json()
    assert shown["url"].endswith("/details/555?lang=kk")
    assert shown["language"] == "kk"
    listed = {s["name"]: s for s in monitor("sources", "--format", "json", cwd=workdir).json()}
    assert listed["govkz-mfa-555-en"]["translation_of"] == "govkz-mfa-555-ru"
    bad = monitor("add", "http://127.0.0.1:9/x", "--languages", "ru", cwd=workdir)
    assert bad.code == 2 and "gov.kz article URL" in bad.err


def test_verify_cli_exits_1_and_names_the_altered_event(workdir: Path) -> None:
    import sqlite3

    assert monitor("init", cwd=workdir).code == 0
    db = sqlite3.connect(workdir / "var" / "monitor.db")
    db.execute("update events set data = json_set(data, '$.origin', 'forged.txt') "
               "where version = 2")
    db.commit()
    db.close()
    result = monitor("verify", cwd=workdir)
    assert result.code == 1
    assert f"stream '{SEED_NAME}' event 2" in result.out and "altered" in result.out


def test_every_command_is_listed_for_lazy_loading_and_has_help(tmp_path: Path) -> None:
    import importlib

    from monitor.cli import COMMAND_MODULES, cli

    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(f"monitor.cli.{module}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        result = monitor(name, "--help", cwd=tmp_path)
        assert result.code == 0 and "Usage: monitor" in result.out, name


def test_add_refuses_urls_and_intervals_that_cannot_work(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    for bad, message in [("http://", "has no host"), ("http://exa mple.com/x", "spaces")]:
        result = monitor("add", bad, cwd=workdir)
        assert result.code == 2 and message in result.err, bad
    zero = monitor("add", "http://127.0.0.1:9/z", "--interval", "0s", cwd=workdir)
    assert zero.code == 2 and "at least 1s" in zero.err
    assert monitor("sources", "--format", "json", cwd=workdir).json()[0]["name"] == SEED_NAME


def test_adding_a_watched_page_again_changes_only_what_is_asked(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    url = "http://127.0.0.1:9/page"
    assert monitor("add", "--no-probe", url, "--name", "page", "--interval", "1m",
                   cwd=workdir).code == 0
    again = monitor("add", url, cwd=workdir)
    assert again.code == 0 and "already watched as page (nothing changed)" in again.out
    faster = monitor("add", url, "--interval", "30s", cwd=workdir)
    assert "already watched as page (interval_seconds)" in faster.out
    shown = monitor("sources", "--show", "page", "--format", "json", cwd=workdir).json()
    assert shown["interval_seconds"] == 30
    names = [s["name"] for s in monitor("sources", "--format", "json", cwd=workdir).json()]
    assert names.count("page") == 1 and len(names) == 2


def test_a_removed_source_stays_removed_when_added_again(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0
    url = "http://127.0.0.1:9/gone"
    assert monitor("add", "--no-probe", url, "--name", "gone", cwd=workdir).code == 0
    assert monitor("remove", "gone", cwd=workdir).code == 0
    again = monitor("add", url, "--name", "gone", cwd=workdir)
    assert again.code == 0 and "gone was removed earlier and stays removed" in again.out
    listed = monitor("sources", "--all", "--format", "json", cwd=workdir).json()
    assert {s["name"]: s["state"] for s in listed}["gone"] == "removed"


def test_pause_resume_remove_twice_record_once_and_say_so(workdir: Path) -> None:
    assert monitor("init", cwd=workdir).code == 0

    def events() -> int:
        listed = monitor("events", "--format", "json", cwd=workdir).out
        return len([line for line in listed.splitlines() if line.strip()])

    steps = [("pause", "paused"), ("pause", "already paused, nothing recorded"),
             ("resume", "resumed"), ("resume", "not paused, nothing recorded"),
             ("remove", "removed"), ("remove", "already removed, nothing recorded")]
    counts = [events()]
    for command, said in steps:
        done = monitor(command, SEED_NAME, cwd=workdir)
        assert done.code == 0, done.err
        assert done.out.strip() == f"{SEED_NAME}: {said}"
        counts.append(events())
    assert counts == [2, 3, 3, 4, 4, 5, 5]
    refused = monitor("pause", SEED_NAME, cwd=workdir)
    assert refused.code == 2 and refused.err.strip().endswith(f"source {SEED_NAME!r} is removed")
