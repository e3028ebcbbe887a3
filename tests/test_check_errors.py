"""One unexpected exception in one check never aborts a pass: that source's outcome is
`error` (a FetchFailed `internal` in its log, the traceback in the process's log), every
other source is checked, and `monitor check` exits 1 so that cron notices. Failures of
the pages themselves still exit 0."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import monitor
from conftest import fast_config
from http_faults import FaultServer, Reply

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.events import SourceRegistered
from monitor.runner import plan_processes, run_pass, run_pass_in_processes
from monitor.store import open_store

CREATED = "2026-03-03T10:00:00.000+05:00"
ALLOW = {"MONITOR_ALLOW_PRIVATE_NETWORKS": "1"}  # the replica is on 127.0.0.1


def _healthy(store, replica, count: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    names = []
    for n in range(count):
        url = replica.add_article("mfa", 60 + n, title=f"Release {n}",
                                  paragraphs=[f"Decision {n} is approved."], created_date=CREATED)
        register(store, SourceConfig(name=f"ok-{n}", url=url, kind="govkz", interval_seconds=60))
        names.append(f"ok-{n}")
    return names


def _crashing(store, replica) -> str:  # type: ignore[no-untyped-def]
    """A list source from an old record, appended as it was: its size is not a number,
    which the adapter's int() refuses with a ValueError (no MonitorError)."""
    store.append("bad-list", 0, [SourceRegistered(
        name="bad-list", url=replica.list_page_url("mfa"), kind="govkz-list",
        interval_seconds=60, options={"size": "twenty"})])
    return "bad-list"


def _types(store, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream(name)]


def test_a_check_that_crashes_is_that_source_s_error_and_the_pass_goes_on(
    store, replica, checker, caplog: pytest.LogCaptureFixture
) -> None:
    names = sorted([*_healthy(store, replica), _crashing(store, replica)])
    with caplog.at_level(logging.ERROR, logger="monitor.check"):
        summary = run_pass(checker, names, workers=2)
    outcomes = {r.source: r.outcome for r in summary.results}
    assert outcomes == {"bad-list": "error", "ok-0": "captured", "ok-1": "captured",
                        "ok-2": "captured"}
    [bad] = [r for r in summary.results if r.source == "bad-list"]
    assert bad.detail.startswith("internal: ValueError"), bad.detail
    crash = [r for r in caplog.records if "bad-list" in r.getMessage()]
    assert crash and crash[0].exc_info is not None  # the traceback is in the process's log
    failed = store.read_stream("bad-list")[-1]
    assert (failed.type, failed.data["kind"]) == ("FetchFailed", "internal")

    again = run_pass(checker, names, workers=2)  # a lasting bug is not an event a check
    assert {r.source: r.outcome for r in again.results}["bad-list"] == "error"
    assert _types(store, "bad-list").count("FetchFailed") == 1


def test_a_crash_inside_a_pass_split_across_processes_is_that_source_s_error_only(
    store, replica, db_url: str
) -> None:
    names = sorted([*_healthy(store, replica, 4), _crashing(store, replica)])
    config = fast_config(db_url)
    urls = dict.fromkeys(names, replica.base_url)
    shares = plan_processes(urls, 2, 4, config)
    assert len(shares) == 2
    summary = run_pass_in_processes(config, db_url, shares, learn=False)
    outcomes = {r.source: r.outcome for r in summary.results}
    assert outcomes == {**{n: "captured" for n in names if n != "bad-list"}, "bad-list": "error"}


def test_a_check_process_that_dies_loses_only_its_own_share(
    store, replica, db_url: str
) -> None:
    import signal

    names = _healthy(store, replica, 2)
    config = fast_config(db_url)
    config = replace(config, fetch=replace(config.fetch, timeout=150.0, deadline=150.0,
                                           retries=0))
    with FaultServer() as server:  # answers after 120 s: the test kills its process first
        server.route("/slow", Reply(200, b"<p>x</p>", {"Content-Type": "text/html"},
                                    delay=120.0))
        register(store, SourceConfig(name="stuck", url=server.url("/slow"), kind="html",
                                     interval_seconds=60))
        shares = plan_processes({"stuck": server.url("/slow"),
                                 **dict.fromkeys(names, replica.base_url)}, 2, 2, config)
        stuck = next(s for s in shares if "stuck" in s.names)

        def kill_the_stuck_one() -> None:
            import multiprocessing
            import os
            import time

            # The other share's process ends once it has reported: the stuck page's
            # process is then our only child.
            deadline = time.monotonic() + 100  # a loaded machine starts processes slowly
            while time.monotonic() < deadline:
                children = multiprocessing.active_children()
                if server.seen and len(children) == 1 and children[0].pid:
                    os.kill(children[0].pid, signal.SIGKILL)  # our own child, by its id
                    return
                time.sleep(0.05)

        import threading

        killer = threading.Thread(target=kill_the_stuck_one)
        killer.start()
        summary = run_pass_in_processes(config, db_url, shares, learn=False)
        killer.join()
    outcomes = {r.source: (r.outcome, r.detail) for r in summary.results}
    assert outcomes["stuck"][0] == "error" and "ended abruptly" in outcomes["stuck"][1]
    for name in names:
        if name not in stuck.names:
            assert outcomes[name][0] == "captured"
    assert set(outcomes) == {"stuck", *names}


def test_a_source_of_a_kind_no_longer_known_is_recorded_failing_not_left_active(
    store, checker
) -> None:
    from monitor.store.queries import source_by_stream

    store.append("old", 0, [SourceRegistered(name="old", url="http://127.0.0.1/old",
                                             kind="nonexistent", interval_seconds=60)])
    result = checker.check("old")
    assert result.outcome == "error" and "nonexistent" in result.detail, result.detail
    failed = store.read_stream("old")[-1]
    assert (failed.type, failed.data["kind"]) == ("FetchFailed", "internal")
    assert "nonexistent" in failed.data["message"]
    row = source_by_stream(store.engine, "old")
    assert row.failures == 1 and "nonexistent" in (row.last_failure or ""), row
    assert checker.check("old").outcome == "error"  # throttled: one event, not one a check
    assert _types(store, "old").count("FetchFailed") == 1


def _cli_store(tmp_path: Path) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    (tmp_path / "monitor.toml").write_text(
        '[fetch]\nmin_delay_per_host = "0s"\nretries = 0\n', encoding="utf-8")
    env = {"MONITOR_DATABASE_URL": url, **ALLOW}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    return env, url


def test_check_exits_1_when_a_check_crashed_after_checking_every_other_source(
    tmp_path: Path, replica
) -> None:
    env, url = _cli_store(tmp_path)
    for n in range(2):
        page = replica.add_article("mfa", 70 + n, title=f"T{n}", paragraphs=["Body."],
                                   created_date=CREATED)
        assert monitor("add", page, "--name", f"ok-{n}", cwd=tmp_path, env=env).code == 0
    store = open_store(url)
    try:
        _crashing(store, replica)
    finally:
        store.engine.dispose()
    result = monitor("check", "--all", "--format", "json", cwd=tmp_path, env=env)
    assert result.code == 1, result.err
    assert result.json()["counts"] == {"captured": 2, "error": 1}
    assert "1 check ended in error" in result.err


def test_check_exits_0_when_only_pages_failed(tmp_path: Path) -> None:
    env, _ = _cli_store(tmp_path)
    with FaultServer() as server:
        server.route("/down", Reply(500))
        assert monitor("add", "--no-probe", server.url("/down"), "--name", "down", cwd=tmp_path,
                       env=env).code == 0
        result = monitor("check", "--all", cwd=tmp_path, env=env)
    assert result.code == 0, result.err
    assert "down: failed  server_error" in result.out


def test_what_escapes_a_check_is_its_error_and_an_interrupt_stops_the_pass(
    store, replica, checker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.one_check import run_check

    [name] = _healthy(store, replica, 1)

    def broken_trace(*_args: object) -> None:
        raise RuntimeError("ledger bug\x1b[2J")

    monkeypatch.setattr(checker, "_leave_trace", broken_trace)  # past the check's own guard
    result = run_check(checker, name)
    assert (result.outcome, result.detail) == ("error", "RuntimeError: ledger bug[2J")
    monkeypatch.undo()

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(checker, "_check", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not a check's outcome: it stops the caller
        run_pass(checker, [name], workers=1)
