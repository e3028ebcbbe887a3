"""The daemon as a user runs it: a subprocess watching the local replica."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_helpers import child_environment

from monitor.catalog import pause, register
from monitor.config import SourceConfig
from monitor.daemon import Daemon
from monitor.events import SourceReconfigured, SourceRegistered
from monitor.store import open_store


def _config(tmp_path: Path, db_url: str, url: str, interval: str = "2s") -> Path:
    config = tmp_path / "monitor.toml"
    config.write_text(f"""
[database]
url = "{db_url}"
[fetch]
min_delay_per_host = "0s"
timeout = "3s"
retries = 1
backoff = "0.05s"
[[sources]]
name = "article"
url = "{url}"
kind = "govkz"
interval = "{interval}"
""")
    return config


def _start(config: Path, tmp_path: Path,
           extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = child_environment()
    env["MONITOR_CONFIG"] = str(config)
    env.update(extra_env or {})
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "monitor", "run", "--workers", "4"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                            text=True)


def _wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _types(db_url: str) -> list[str]:
    store = open_store(db_url)
    try:
        return [e.type for e in store.read_all()]
    finally:
        store.engine.dispose()


def test_daemon_records_an_edit_within_the_interval_and_stops_cleanly(
    tmp_path: Path, replica, db_url: str
) -> None:
    url = replica.add_article("mfa", 21, title="Statement", paragraphs=[
        "The ministry reported 12 visits.", "Monitoring continues."],
        created_date="2026-05-01T09:00:00.000+05:00")
    config = _config(tmp_path, db_url, url)
    from cli_helpers import monitor

    init = monitor("--config", str(config), "init", cwd=tmp_path)
    assert init.code == 0, init.err
    daemon = _start(config, tmp_path)
    try:
        _wait_for(lambda: "VersionCaptured" in _types(db_url), 20, "the first capture")
        replica.edit_article(21, "en", paragraphs=["The ministry reported 13 visits.",
                                                   "Monitoring continues."])
        edited_at = time.monotonic()
        _wait_for(lambda: "ChangeDetected" in _types(db_url), 10, "the change")
        assert time.monotonic() - edited_at < 2 + 2 + 1  # interval + jitter margin + check
        time.sleep(3)  # more passes over noise: nothing new
        assert _types(db_url).count("ChangeDetected") == 1
    finally:
        stopped_at = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=15)
    assert code == 0
    assert time.monotonic() - stopped_at < 10
    log = (tmp_path / "daemon.log").read_text()
    assert "daemon started sources=1" in log
    assert "check source=article outcome=changed" in log
    assert "Traceback" not in log


def test_daemon_picks_up_a_source_added_while_it_runs(
    tmp_path: Path, replica, db_url: str
) -> None:
    first = replica.add_article("mfa", 31, title="One", paragraphs=["First."],
                                created_date="2026-05-01T09:00:00.000+05:00")
    second = replica.add_article("mfa", 32, title="Two", paragraphs=["Second."],
                                 created_date="2026-05-01T09:00:00.000+05:00")
    config = _config(tmp_path, db_url, first)
    from cli_helpers import monitor

    assert monitor("--config", str(config), "init", cwd=tmp_path).code == 0
    daemon = _start(config, tmp_path)
    try:
        _wait_for(lambda: "daemon started" in (tmp_path / "daemon.log").read_text(), 20,
                  "the daemon")
        added = monitor("--config", str(config), "add", second, "--name", "second",
                        "--interval", "2s", cwd=tmp_path)
        assert added.code == 0, added.err
        store = open_store(db_url)
        _wait_for(lambda: [e for e in store.read_stream("second")
                           if e.type == "VersionCaptured"], 15, "a capture of the new source")
        store.engine.dispose()
    finally:
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(timeout=15) == 0


def test_daemon_delivers_email_and_webhook_and_a_restart_resends_nothing(
    tmp_path: Path, replica, db_url: str
) -> None:
    from cli_helpers import monitor

    from monitor.replica.smtp_sink import SmtpSink
    from monitor.replica.webhook_sink import SECRET, WebhookReceiver

    url = replica.add_article("mfa", 41, title="Report", paragraphs=[
        "Inspectors made 40 visits.", "Findings follow."],
        created_date="2026-05-01T09:00:00.000+05:00")
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        config = _config(tmp_path, db_url, url)
        config.write_text(config.read_text() + f"""
[[alerts]]
name = "hook"
kind = "webhook"
url = "{hook.url}"
secret_env = "MONITOR_TEST_HOOK_SECRET"
[[alerts]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from = "monitor@localhost"
to = ["desk@localhost"]
""")
        assert monitor("--config", str(config), "init", cwd=tmp_path).code == 0
        daemon = _start(config, tmp_path, {"MONITOR_TEST_HOOK_SECRET": SECRET})
        try:
            _wait_for(lambda: "VersionCaptured" in _types(db_url), 20, "the first capture")
            replica.edit_article(41, "en", paragraphs=["Inspectors made 41 visits.",
                                                       "Findings follow."])
            edited_at = time.monotonic()
            _wait_for(lambda: hook.received and smtp.messages, 10, "both alerts")
            assert time.monotonic() - edited_at < 2 + 2 + 2
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=15) == 0
        assert len(hook.received) == 1 and len(smtp.messages) == 1
        assert "[high]" in smtp.messages[0]["Subject"]

        restarted = _start(config, tmp_path, {"MONITOR_TEST_HOOK_SECRET": SECRET})
        try:
            _wait_for(lambda: (tmp_path / "daemon.log").read_text().count(
                "daemon started") >= 1, 20, "the restart")
            time.sleep(4)  # several checks and dispatch ticks
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(timeout=15) == 0
        assert len(hook.received) == 1 and len(smtp.messages) == 1



class _ThreadDaemon(Daemon):
    """The daemon, run in a test's thread: signals belong to the main thread."""

    def _install_signal_handlers(self) -> None:
        pass


def test_a_record_the_daemon_cannot_apply_costs_that_source_only(
    store, db_url: str, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    # Records `add` no longer writes, as an old store, another version or a hand holds
    # them. PostgreSQL's integer column refuses what SQLite keeps, so each gets its worst.
    absurd, malformed = ((99999999999 * 86400, "soon") if db_url.startswith("sqlite")
                         else (2**31 - 1, -5))
    register(store, SourceConfig(name="steady", url="http://127.0.0.1:9/steady", kind="html",
                                 interval_seconds=60))
    store.append("huge", 0, [SourceRegistered(name="huge", url="http://127.0.0.1:9/huge",
                                              kind="html", interval_seconds=absurd)])
    submitted: list[str] = []
    daemon = _ThreadDaemon(store, None, workers=2, submit=submitted.append,
                           first_run_spread=0.1)
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        _wait_for(lambda: "steady" in submitted, 5, "the sound source's first check")
        assert set(daemon.scheduled) == {"steady"}
        # While it runs: a bad registration, and a good source reconfigured badly.
        store.append("broken", 0, [SourceRegistered(
            name="broken", url="http://127.0.0.1:9/broken", kind="html",
            interval_seconds=malformed)])
        steady = store.read_stream("steady")
        store.append("steady", len(steady), [SourceReconfigured(
            changes={"interval_seconds": malformed})])
        register(store, SourceConfig(name="later", url="http://127.0.0.1:9/later",
                                     kind="html", interval_seconds=60))
        _wait_for(lambda: "later" in submitted, 8, "the source added after them")
        assert thread.is_alive()
        assert set(daemon.scheduled) == {"steady", "later"}  # steady keeps its schedule
        pause(store, "later")
        _wait_for(lambda: "later" not in daemon.scheduled, 8, "the pause")
    finally:
        daemon.stopping.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(refusals) == 3, refusals  # one line each, not one per pass over the log
    assert any(m.startswith("cannot schedule source=huge: ") for m in refusals)
    assert any(m.startswith("cannot schedule source=broken: ") for m in refusals)
    assert any("source=steady" in m and "keeps its previous schedule" in m for m in refusals)
    assert not [r for r in caplog.records if r.exc_info]
