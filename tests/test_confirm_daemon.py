"""Confirmed changes end to end: `monitor run` as a subprocess watching the local gov.kz
replica, whose article the test edits A→B→A or A→B, alerting an aiosmtpd server and a
webhook receiver on 127.0.0.1. What arrives is asserted exactly, and so is the log."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from change_story import assert_valid
from cli_helpers import monitor
from test_daemon import _start, _wait_for

from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import open_store

SECRET_ENV = "TEST_CONFIRM_WEBHOOK_SECRET"
A = ["The ministry reported 12 visits.", "Monitoring continues."]
B = ["The ministry reported 13 visits.", "Monitoring continues."]


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    with SmtpSink() as sink:
        yield sink


def _config(tmp_path: Path, db_url: str, url: str, hook: WebhookReceiver, smtp: SmtpSink,
            source: str = "", webhook: str = "", mail: str = "") -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f"""
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
interval = "2s"
{source}
[[alerts]]
name = "hook"
kind = "webhook"
url = "{hook.url}"
secret_env = "{SECRET_ENV}"
timeout = "5s"
{webhook}
[[alerts]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from = "Monitor <monitor@example.org>"
to = ["desk@example.org"]
timeout = "5s"
{mail}
""")
    assert monitor("--config", str(path), "init", cwd=tmp_path).code == 0
    return path


def _events(db_url: str) -> list[Any]:
    store = open_store(db_url)
    try:
        return [e for e in store.read_all() if e.stream_id == "article"]
    finally:
        store.engine.dispose()


def _of(db_url: str, kind: str) -> list[Any]:
    return [e for e in _events(db_url) if e.type == kind]


def _stop(daemon: subprocess.Popen[str], tmp_path: Path) -> None:
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=20) == 0
    assert "Traceback" not in (tmp_path / "daemon.log").read_text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_change_undone_within_the_delay_alerts_once_as_reverted_or_not_at_all(
        tmp_path: Path, replica, db_url: str, receiver: WebhookReceiver, smtp: SmtpSink) -> None:
    url = replica.add_article("mfa", 41, title="Statement", paragraphs=A,
                              created_date="2026-05-01T09:00:00.000+05:00")
    config = _config(tmp_path, db_url, url, receiver, smtp, source='confirm = "4s"',
                     mail='reverted = "drop"')
    daemon = _start(config, tmp_path, {"MONITOR_CONFIG": str(config), SECRET_ENV: SECRET})
    try:
        _wait_for(lambda: _of(db_url, "VersionCaptured"), 20, "the first capture")
        replica.edit_article(41, "en", paragraphs=B)
        _wait_for(lambda: _of(db_url, "ChangeDetected"), 10, "the change")
        replica.edit_article(41, "en", paragraphs=A)  # back, well within the 4s
        rechecked = _wait_for(lambda: _of(db_url, "ChangeRechecked"), 20, "the re-check")
        _wait_for(lambda: receiver.received, 15, "the webhook")
        # The change back is re-checked in its turn, 4s later; it must not alert.
        _wait_for(lambda: len(_of(db_url, "ChangeRechecked")) == 2, 20, "the second re-check")
        time.sleep(7)  # more than a dispatch tick after it
    finally:
        _stop(daemon, tmp_path)
    changes = _of(db_url, "ChangeDetected")
    assert len(changes) == 2  # both are evidence, both are kept
    first, back = changes
    assert (first.data["from_hash"], first.data["to_hash"]) == (
        back.data["to_hash"], back.data["from_hash"])
    assert rechecked[0].data["change_id"] == first.event_id
    assert (rechecked[0].data["outcome"], rechecked[0].data["by"]) == ("reverted", back.event_id)
    bodies = [r.json() for r in receiver.received]
    assert [b["type"] for b in bodies] == ["change.reverted"]
    assert_valid(bodies[0], "webhook.schema.json")
    assert bodies[0]["data"]["event_id"] == first.event_id
    assert bodies[0]["data"]["reverted"]["event_id"] == back.event_id
    assert smtp.messages == []  # reverted = "drop"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_confirmed_change_alerts_once_after_the_delay_even_across_a_restart(
        tmp_path: Path, replica, db_url: str, receiver: WebhookReceiver, smtp: SmtpSink) -> None:
    url = replica.add_article("mfa", 42, title="Statement", paragraphs=A,
                              created_date="2026-05-01T09:00:00.000+05:00")
    config = _config(tmp_path, db_url, url, receiver, smtp, webhook='confirm = "6s"',
                     mail='confirm = "6s"')
    env = {"MONITOR_CONFIG": str(config), SECRET_ENV: SECRET}
    daemon = _start(config, tmp_path, env)
    try:
        _wait_for(lambda: _of(db_url, "VersionCaptured"), 20, "the first capture")
        replica.edit_article(42, "en", paragraphs=B)
        detected = _wait_for(lambda: _of(db_url, "ChangeDetected"), 10, "the change")[0]
    finally:
        _stop(daemon, tmp_path)  # the confirmation is pending: the log must carry it
    assert _of(db_url, "ChangeRechecked") == []
    (tmp_path / "first-daemon.log").write_text((tmp_path / "daemon.log").read_text())
    daemon = _start(config, tmp_path, env)
    try:
        rechecked = _wait_for(lambda: _of(db_url, "ChangeRechecked"), 20, "the re-check")
        _wait_for(lambda: receiver.received and smtp.messages, 15, "both alerts")
        time.sleep(6)  # more than a dispatch tick: nothing more comes
    finally:
        _stop(daemon, tmp_path)
    assert (rechecked[0].data["change_id"], rechecked[0].data["outcome"]) == (
        detected.event_id, "confirmed")
    assert rechecked[0].recorded_at >= detected.recorded_at + timedelta(seconds=6)
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert receiver.received[0].json()["data"]["event_id"] == detected.event_id
    assert len(smtp.messages) == 1
    assert "changed back" not in str(smtp.messages[0]["Subject"])
    assert len(_of(db_url, "ChangeDetected")) == 1
    assert "confirmation of change" in (tmp_path / "daemon.log").read_text()
