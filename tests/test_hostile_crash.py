"""kill -9 of `monitor run` while a confirmation or a digest is pending, then a
restart: every alert arrives exactly once (by id), and the log is intact."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from daemon_helpers import deliveries, of, start, wait_for
from test_confirm_daemon import SECRET_ENV, A, B, confirm_config

from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

pytestmark = pytest.mark.slow
DIGEST = 5  # seconds; periods end on multiples of it (the channel's clock, whole hours off UTC)


def _both(states: dict[str, str]) -> dict[str, str] | None:
    return states if len(states) == 2 else None


def _ids(receiver: WebhookReceiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.received]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kill_9_with_a_confirmation_and_a_digest_pending_loses_and_doubles_nothing(
        tmp_path: Path, replica, db_url: str, receiver: WebhookReceiver,  # type: ignore[no-untyped-def]
        smtp: SmtpSink) -> None:
    url = replica.add_article("mfa", 77, title="Statement", paragraphs=A,
                              created_date="2026-05-01T09:00:00.000+05:00")
    config = confirm_config(tmp_path, db_url, url, receiver, smtp, webhook_extra='confirm = "3s"',
                            mail_extra=f'digest = "{DIGEST}s"\nlanguage = "ru"')
    env = {SECRET_ENV: SECRET}
    daemon = start(config, env, log="killed-daemon.log")
    try:
        wait_for(lambda: of(db_url, "VersionCaptured"), 20, "the first capture")
        # Edit at the start of a digest period, so that the kill comes well before its end.
        wait_for(lambda: time.time() % DIGEST < 0.3, DIGEST + 1, "a digest period's start",
                 every=0.02)
        replica.edit_article(77, "en", paragraphs=B)
        wait_for(lambda: of(db_url, "ChangeDetected"), 10, "the change")
        # Enqueued, and held on both channels: confirming on one, for the digest on the other.
        held = wait_for(lambda: _both(deliveries(db_url)), 10, "both alerts enqueued")
    finally:
        daemon.kill()
    assert held == {"hook": "confirming", "mail": "held"}
    assert receiver.received == [] and smtp.messages == []
    daemon = start(config, env)
    try:
        wait_for(lambda: of(db_url, "ChangeRechecked"), 25, "the re-check")
        wait_for(lambda: receiver.received and smtp.messages, 25, "both alerts")
        time.sleep(DIGEST + 1.5)  # past another digest period and several dispatch ticks
    finally:
        daemon.stop()
    assert len(of(db_url, "ChangeDetected")) == 1
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert len(set(_ids(receiver))) == 1
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Content-Language"] == "ru"
