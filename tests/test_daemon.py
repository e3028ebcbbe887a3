"""The daemon as a user runs it: a subprocess watching the local replica
(tests/daemon_helpers.py starts it)."""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests
from cli_helpers import monitor
from daemon_helpers import email, source, start, types, wait_for, webhook, write_config

from monitor.catalog import pause, register
from monitor.config import SourceConfig
from monitor.daemon import Daemon
from monitor.events import SourceReconfigured, SourceRegistered
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

HOOK_SECRET_ENV = "MONITOR_TEST_HOOK_SECRET"


@pytest.mark.slow
def test_the_daemon_records_an_edit_alerts_once_follows_new_sources_and_restarts_quietly(
    tmp_path: Path, replica, db_url: str
) -> None:
    """An edit is recorded within the interval and alerted by e-mail and webhook; a
    source added while the daemon runs is picked up; noise records nothing; SIGTERM and
    SIGINT stop it cleanly; a restart resends nothing; and it serves the web app."""
    url = replica.add_article("mfa", 41, title="Report", paragraphs=[
        "Inspectors made 40 visits.", "Findings follow."],
        created_date="2026-05-01T09:00:00.000+05:00")
    second = replica.add_article("mfa", 42, title="Two", paragraphs=["Second."],
                                 created_date="2026-05-01T09:00:00.000+05:00")
    env = {HOOK_SECRET_ENV: SECRET}
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        config = write_config(tmp_path, db_url, source(url), webhook(hook.url, HOOK_SECRET_ENV),
                              email(smtp.port), web=True)
        daemon = start(config, env)
        try:
            wait_for(lambda: "VersionCaptured" in types(db_url), 20, "the first capture")
            added = monitor("--config", str(config), "add", "--no-probe", second, "--name",
                            "second", "--interval", "1s", cwd=tmp_path)
            assert added.code == 0, added.err
            replica.edit_article(41, "en", paragraphs=["Inspectors made 41 visits.",
                                                       "Findings follow."])
            edited_at = time.monotonic()
            wait_for(lambda: hook.received and smtp.messages, 10, "both alerts")
            assert time.monotonic() - edited_at < 1 + 2 + 2  # interval + margin + check, send
            wait_for(lambda: "VersionCaptured" in types(db_url, "second"), 15,
                     "a capture of the source added while it runs")
            served = re.search(r"web app: (http://127\.0\.0\.1:\d+)/", daemon.text())
            assert served, daemon.text()
            assert requests.get(served.group(1) + "/login", timeout=10).status_code == 200
        finally:
            stopped_at = time.monotonic()
            daemon.stop(signal.SIGTERM)
        assert time.monotonic() - stopped_at < 10
        stopped = monitor("--config", str(config), "status", cwd=tmp_path).out
        assert "daemon: not running (stopped at " in stopped, stopped  # its last beat
        assert f"pid {daemon.process.pid}@" in stopped, stopped
        assert len(hook.received) == 1 and len(smtp.messages) == 1
        assert "[high]" in smtp.messages[0]["Subject"]
        log = daemon.text()
        assert "daemon started sources=1" in log
        assert "check source=article outcome=changed" in log

        restarted = start(config, env, log="restart.log")
        try:
            wait_for(lambda: "daemon started sources=2" in restarted.text(), 20, "the restart")
            time.sleep(2.5)  # checks of both sources over the noise, and dispatch ticks
        finally:
            restarted.stop(signal.SIGINT)
        assert len(hook.received) == 1 and len(smtp.messages) == 1
    assert types(db_url, "article").count("ChangeDetected") == 1
    assert types(db_url, "second").count("ChangeDetected") == 0


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
                           first_run_spread=0.1, follow_seconds=0.2)
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "steady" in submitted, 5, "the sound source's first check")
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
        wait_for(lambda: "later" in submitted, 8, "the source added after them")
        assert thread.is_alive()
        assert set(daemon.scheduled) == {"steady", "later"}  # steady keeps its schedule
        pause(store, "later")
        wait_for(lambda: "later" not in daemon.scheduled, 8, "the pause")
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


def test_a_failed_check_says_when_it_is_tried_again(
    store, checker, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    """Offline, a newcomer's `make run` shows one failure and then an hour of quiet: the
    failure's line says when the next try is, and the start line says what comes."""
    register(store, SourceConfig(name="dead", url="http://127.0.0.1:9/gone", kind="html",
                                 interval_seconds=3600))
    daemon = _ThreadDaemon(store, checker, workers=1, first_run_spread=0.1,
                           follow_seconds=0.2)
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "next try" in caplog.text, 15, "the failure's line")
    finally:
        daemon.stopping.set()
        thread.join(timeout=15)
    lines = [r.getMessage() for r in caplog.records]
    started = next(m for m in lines if m.startswith("daemon started sources=1 "))
    assert "first checks within 0.1s, then each source on its interval" in started
    retry = next(m for m in lines if "next try" in m)
    at = re.fullmatch(r"source=dead failed: next try in (59 min|1 h), at (\S+)", retry)
    assert at, retry
    assert 3500 < datetime.fromisoformat(at.group(2)).timestamp() - time.time() < 3700
