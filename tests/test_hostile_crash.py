"""kill -9 of `monitor run` while a confirmation or a digest is pending, then a
restart: every alert arrives exactly once (by id), and the log is intact."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_confirm_daemon import SECRET_ENV, A, B, _config, _of, smtp
from test_daemon import _start, _wait_for

from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

__all__ = ["smtp"]
pytestmark = pytest.mark.slow


def _kill(daemon: subprocess.Popen[str]) -> None:
    daemon.send_signal(signal.SIGKILL)
    daemon.wait(timeout=20)


def _stop(daemon: subprocess.Popen[str], tmp_path: Path) -> None:
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=20) == 0
    assert "Traceback" not in (tmp_path / "daemon.log").read_text()


def _ids(receiver: WebhookReceiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.received]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kill_9_with_a_confirmation_and_a_digest_pending_loses_and_doubles_nothing(
        tmp_path: Path, replica, db_url: str, receiver: WebhookReceiver,  # type: ignore[no-untyped-def]
        smtp: SmtpSink) -> None:
    url = replica.add_article("mfa", 77, title="Statement", paragraphs=A,
                              created_date="2026-05-01T09:00:00.000+05:00")
    config = _config(tmp_path, db_url, url, receiver, smtp, webhook='confirm = "5s"',
                     mail='digest = "8s"\nlanguage = "ru"')
    env = {"MONITOR_CONFIG": str(config), SECRET_ENV: SECRET}
    daemon = _start(config, tmp_path, env)
    try:
        _wait_for(lambda: _of(db_url, "VersionCaptured"), 20, "the first capture")
        replica.edit_article(77, "en", paragraphs=B)
        _wait_for(lambda: _of(db_url, "ChangeDetected"), 10, "the change")
        time.sleep(1)  # the dispatcher has enqueued it: confirming on one, held on the other
    finally:
        _kill(daemon)
    assert receiver.received == [] and smtp.messages == []
    daemon = _start(config, tmp_path, env)
    try:
        _wait_for(lambda: _of(db_url, "ChangeRechecked"), 25, "the re-check")
        _wait_for(lambda: receiver.received and smtp.messages, 25, "both alerts")
        time.sleep(10)  # past another digest period and several dispatch ticks
    finally:
        _stop(daemon, tmp_path)
    assert len(_of(db_url, "ChangeDetected")) == 1
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert len(set(_ids(receiver))) == 1
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Content-Language"] == "ru"
