"""Digests end to end: the daemon (a subprocess, as users run it) sends one e-mail
per digest channel and one webhook POST per period, with every change of the period
grouped by document, in each channel's language and timezone. The SMTP server is
aiosmtpd on loopback, the webhook receiver an HTTP server on loopback that checks
signatures, the documents the local gov.kz replica."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cli_helpers import monitor
from daemon_helpers import email, source, start, types, wait_for, webhook, write_config

from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

A_PARAGRAPHS = ["The ministry made 40 visits.", "Findings follow."]
B_PARAGRAPHS = ["The budget was 100 million tenge.", "Spending continues."]
SECRET_ENV = "MONITOR_TEST_HOOK_SECRET"

pytestmark = pytest.mark.slow


def _check(config: Path, tmp_path: Path) -> None:
    # One process: two pages need no worker processes (each would cost a second to start).
    result = monitor("--config", str(config), "check", "--all", "--no-learn", "--processes",
                     "1", cwd=tmp_path)
    assert result.code == 0, result.err


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_daemon_sends_one_digest_per_channel_grouped_in_each_readers_language(
    tmp_path: Path, replica, db_url: str  # type: ignore[no-untyped-def]
) -> None:
    a = replica.add_article("mfa", 51, title="Inspection report", paragraphs=A_PARAGRAPHS,
                            created_date="2026-05-01T09:00:00.000+05:00")
    b = replica.add_article("mfa", 52, title="Budget statement", paragraphs=B_PARAGRAPHS,
                            created_date="2026-05-01T09:00:00.000+05:00")
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        config = write_config(
            tmp_path, db_url, source(a, interval="1h"),
            source(b, name="budget", interval="1h"),
            webhook(hook.url, SECRET_ENV, extra='digest = "2s"'),
            email(smtp.port, extra='digest = "2s"'),
            email(smtp.port, name="mail-ru", to="ru-desk@localhost",
                  extra='digest = "2s"\nlanguage = "ru"\ntimezone = "Europe/Moscow"'))
        # Three changes on two documents, recorded before the daemon starts: its first
        # dispatch finds them all in one period.
        _check(config, tmp_path)
        replica.edit_article(51, "en", paragraphs=["The ministry made 41 visits.",
                                                   "Findings follow."])
        replica.edit_article(52, "en", paragraphs=["The budget was 100 million tenge.",
                                                   "Spending continues.", "A note was added."])
        _check(config, tmp_path)
        replica.edit_article(51, "en", paragraphs=["The ministry made 42 visits.",
                                                   "Findings follow in March."])
        _check(config, tmp_path)
        assert types(db_url).count("ChangeDetected") == 3

        daemon = start(config, {SECRET_ENV: SECRET})
        try:
            wait_for(lambda: hook.received and len(smtp.messages) >= 2, 30, "the digests")
            time.sleep(2.5)  # more dispatch ticks and a digest period: nothing else goes out
            assert len(hook.received) == 1 and len(smtp.messages) == 2
        finally:
            daemon.stop()

    (post,) = hook.received
    body = post.json()
    assert post.webhook_id.startswith("digest_") and body["type"] == "digest"
    changes = body["data"]["changes"]
    assert [c["source"]["name"] for c in changes] == ["article", "article", "budget"]
    assert [c["title"] for c in changes] == ["Inspection report"] * 2 + ["Budget statement"]
    assert changes[0]["significance"] == "high" and changes[2]["significance"] == "medium"
    assert changes[0]["event_position"] < changes[1]["event_position"]

    by_recipient = {m["To"]: m for m in smtp.messages}
    english, russian = by_recipient["desk@localhost"], by_recipient["ru-desk@localhost"]
    assert str(english["Subject"]).strip().startswith("[high] Digest, ")
    assert str(english["Subject"]).strip().endswith(": 3 changes in 2 documents")
    en_html = english.get_body(("html",)).get_content()
    en_text = english.get_body(("plain",)).get_content()
    assert '<html lang="en">' in en_html and " +05:00" in en_text  # Almaty by default
    # Grouped by document, the title first, the most significant document first.
    assert en_text.index("== Inspection report (article) [high]") < en_text.index(
        "== Budget statement (budget) [medium]")
    assert "1 number changed in paragraph 1" in en_text
    assert "1 paragraph added" in en_text

    assert str(russian["Subject"]).strip().startswith("[высокая] Сводка, ")
    assert str(russian["Subject"]).strip().endswith(": 3 изменения в 2 документах")
    ru_html = russian.get_body(("html",)).get_content()
    ru_text = russian.get_body(("plain",)).get_content()
    assert '<html lang="ru">' in ru_html and russian["Content-Language"] == "ru"
    assert "1 число изменено в абзаце 1" in ru_text and "1 абзац добавлен" in ru_text
    assert "обнаружено" in ru_text and "detected" not in ru_text
    assert re.search(r"обнаружено \d{4}-\d\d-\d\d \d\d:\d\d \+03:00", ru_text)  # Moscow time
    assert "+05:00" not in ru_text
    log = daemon.text()
    assert "Traceback" not in log and log.count("state=delivered") == 3
