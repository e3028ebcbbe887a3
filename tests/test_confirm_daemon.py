"""Confirmed changes end to end: `monitor run` as a subprocess watching the local gov.kz
replica, whose article the test edits A→B→A or A→B, alerting an aiosmtpd server and a
webhook receiver on 127.0.0.1. What arrives is asserted exactly, and so is the log."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from change_story import assert_valid
from daemon_helpers import email, of, source, start, wait_for, webhook, write_config

from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

pytestmark = pytest.mark.slow
SECRET_ENV = "TEST_CONFIRM_WEBHOOK_SECRET"
A = ["The ministry reported 12 visits.", "Monitoring continues."]
B = ["The ministry reported 13 visits.", "Monitoring continues."]


def confirm_config(tmp_path: Path, db_url: str, url: str, hook: WebhookReceiver,
                   smtp: SmtpSink, source_extra: str = "", webhook_extra: str = "",
                   mail_extra: str = "") -> Path:
    """The article checked every second, a webhook channel and an e-mail channel."""
    return write_config(
        tmp_path, db_url, source(url, extra=source_extra),
        webhook(hook.url, SECRET_ENV, extra='timeout = "5s"\n' + webhook_extra),
        email(smtp.port, to="desk@example.org", sender="Monitor <monitor@example.org>",
              extra='timeout = "5s"\n' + mail_extra))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_change_undone_within_the_delay_alerts_once_as_reverted_or_not_at_all(
        tmp_path: Path, replica, db_url: str, receiver: WebhookReceiver, smtp: SmtpSink) -> None:
    url = replica.add_article("mfa", 41, title="Statement", paragraphs=A,
                              created_date="2026-05-01T09:00:00.000+05:00")
    config = confirm_config(tmp_path, db_url, url, receiver, smtp,
                            source_extra='confirm = "3s"', mail_extra='reverted = "drop"')
    daemon = start(config, {SECRET_ENV: SECRET})
    try:
        wait_for(lambda: of(db_url, "VersionCaptured"), 20, "the first capture")
        replica.edit_article(41, "en", paragraphs=B)
        wait_for(lambda: of(db_url, "ChangeDetected"), 10, "the change")
        replica.edit_article(41, "en", paragraphs=A)  # back, well within the 3s
        rechecked = wait_for(lambda: of(db_url, "ChangeRechecked"), 20, "the re-check")
        wait_for(lambda: receiver.received, 15, "the webhook")
        # The change back is re-checked in its turn, 3s later; it must not alert.
        wait_for(lambda: len(of(db_url, "ChangeRechecked")) == 2, 20, "the second re-check")
        time.sleep(2.5)  # more than two dispatch ticks after it
    finally:
        daemon.stop()
    changes = of(db_url, "ChangeDetected")
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
    config = confirm_config(tmp_path, db_url, url, receiver, smtp,
                            webhook_extra='confirm = "4s"', mail_extra='confirm = "4s"')
    env = {SECRET_ENV: SECRET}
    daemon = start(config, env, log="first-daemon.log")
    try:
        wait_for(lambda: of(db_url, "VersionCaptured"), 20, "the first capture")
        replica.edit_article(42, "en", paragraphs=B)
        detected = wait_for(lambda: of(db_url, "ChangeDetected"), 10, "the change")[0]
    finally:
        daemon.stop()  # the confirmation is pending: the log must carry it
    assert of(db_url, "ChangeRechecked") == []
    daemon = start(config, env)
    try:
        rechecked = wait_for(lambda: of(db_url, "ChangeRechecked"), 20, "the re-check")
        wait_for(lambda: receiver.received and smtp.messages, 15, "both alerts")
        time.sleep(2.5)  # more than two dispatch ticks: nothing more comes
    finally:
        daemon.stop()
    assert (rechecked[0].data["change_id"], rechecked[0].data["outcome"]) == (
        detected.event_id, "confirmed")
    assert rechecked[0].recorded_at >= detected.recorded_at + timedelta(seconds=4)
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert receiver.received[0].json()["data"]["event_id"] == detected.event_id
    assert len(smtp.messages) == 1
    assert "changed back" not in str(smtp.messages[0]["Subject"])
    assert len(of(db_url, "ChangeDetected")) == 1
    assert "confirmation of change" in daemon.text()
