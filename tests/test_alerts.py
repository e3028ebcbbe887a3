"""Alerts: derived from the log, filtered per channel, signed, escaped, retried, dead-lettered.

Real parts only: the webhook receiver is an HTTP server on 127.0.0.1 that checks
signatures, the SMTP server is aiosmtpd on loopback, the databases are SQLite
files and PostgreSQL. Time is driven by a test clock, not by sleeping.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from cli_helpers import monitor
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from monitor.alerts import Dispatcher
from monitor.alerts.alert import alert_id
from monitor.alerts.derive import Streak
from monitor.alerts.outbox import listing
from monitor.alerts.policy import Policy
from monitor.alerts.schema import deliveries
from monitor.alerts.signing import secret_key, signature
from monitor.clock import ManualClock
from monitor.config import AlertConfig, Config
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.errors import ConfigError
from monitor.events import (
    BaselineImported,
    ChangeDetected,
    DocumentPublished,
    DocumentRemoved,
    Event,
    FetchFailedEvent,
    SourceRecovered,
    SourceRegistered,
    VersionCaptured,
)
from monitor.moments import utc_iso
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver, verify
from monitor.store import EventStore, migrate, projections
from monitor.store.mapper import StoredEvent
from monitor.store.schema import events
from monitor.store.snapshots import Blob

SOURCE = "mfa-2025-12-11-human-rights-penitentiary-en"
SECRET_ENV = "TEST_ALERTS_WEBHOOK_SECRET"
INTRO = "Astana, 11 December 2025."
TITLE = "Human rights conference"


# --- building the log ---------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """An edit as a check records it: the new version captured, then the change."""

    after: Document
    event: ChangeDetected


def register(store: EventStore, name: str = SOURCE) -> None:
    """A source and its first version (the page as it was)."""
    first = Blob.text(Document(TITLE, "2025-12-11", (INTRO, "First words.")).canonical_text())
    store.append(name, 0, [
        SourceRegistered(
            name=name, url=f"https://www.gov.kz/memleket/entities/mfa/press/news/details/{name}",
            kind="govkz", interval_seconds=3600),
        BaselineImported(content_hash=first.sha256, origin="test", title=TITLE,
                         published="2025-12-11"),
    ], blobs=[first])


def append(store: EventStore, name: str, *items: Event | Edit) -> list[StoredEvent]:
    """Append events; an Edit appends its captured version and its change."""
    new: list[Event] = []
    blobs: list[Blob] = []
    for item in items:
        if isinstance(item, Edit):
            text = Blob.text(item.after.canonical_text())
            blobs.append(text)
            new += [VersionCaptured(content_hash=text.sha256, url=_url(name),
                                    title=item.after.title, published=item.after.published),
                    item.event]
        else:
            new.append(item)
    return store.append(name, store.stream_version(name), new, blobs=blobs)


def _url(name: str) -> str:
    return f"https://www.gov.kz/memleket/entities/mfa/press/news/details/{name}"


def change(old: str, new: str, title: str = TITLE) -> Edit:
    before = Document(TITLE, "2025-12-11", (INTRO, old))
    after = Document(title, "2025-12-11", (INTRO, new))
    diff = diff_documents(before, after)
    return Edit(after, ChangeDetected(
        from_hash=before.content_hash, to_hash=after.content_hash,
        significance=diff.significance, classes=diff.classes, summary=diff.summary(),
        change=diff.to_stored()))


NUMBER_EDIT = change("The delegation had 120 members.", "The delegation had 150 members.")
TYPO_EDIT = change('He said "yes".', "He said «yes».")


# --- configuring channels -----------------------------------------------------
def config(*channels: dict[str, Any]) -> Config:
    alerts = []
    for spec in channels:
        settings = dict(spec)
        alerts.append(AlertConfig(settings.pop("name"), settings.pop("kind"), settings))
    return Config(path=None, database_url="", alerts=tuple(alerts))


def webhook(hook: WebhookReceiver, name: str = "hook", **settings: Any) -> dict[str, Any]:
    return {"name": name, "kind": "webhook", "url": hook.url, "secret_env": SECRET_ENV,
            "timeout": "5s", **settings}


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def rows(store: EventStore, channel: str | None = None) -> list[Any]:
    return sorted(listing(store.engine, channel=channel), key=lambda r: r.id)


# --- the webhook -------------------------------------------------------------
def test_change_reaches_the_webhook_once_signed_with_its_stable_id(store, receiver) -> None:
    register(store)
    event = append(store, SOURCE, NUMBER_EDIT)[-1]
    dispatcher = Dispatcher(store, config(webhook(receiver)))

    summary = dispatcher.run_once()
    again = dispatcher.run_once()

    assert (summary.enqueued, summary.delivered) == (1, 1)
    assert (again.enqueued, again.attempted) == (0, 0)
    expected_id = alert_id(event.event_id, "hook")
    assert receiver.ids() == [expected_id]
    body = receiver.received[0].json()
    assert set(body) == {"type", "timestamp", "data"}  # the Standard Webhooks envelope
    assert body["type"] == "change.detected"
    assert body["timestamp"] == utc_iso(event.recorded_at)
    data = body["data"]
    assert (data["kind"], data["event_id"], data["event_position"]) == (
        "changed", event.event_id, event.position)
    assert data["title"] == TITLE
    assert data["source"]["name"] == SOURCE
    assert data["source"]["url"].startswith("https://www.gov.kz/")
    assert data["detected_at"].endswith("Z")
    assert data["significance"] == "high"
    assert "number" in data["classes"]
    assert data["summary"] == "1 number changed in paragraph 2"
    assert (data["from_version"]["number"], data["to_version"]["number"]) == (1, 2)
    assert data["to_version"]["text_hash"] == NUMBER_EDIT.event.to_hash
    hunk = data["hunks"][0]
    assert (hunk["kind"], hunk["where"]) == ("number", "paragraph 2")
    assert hunk["location"] == {"field": "body", "old_paragraph": 2, "new_paragraph": 2}
    assert {"op": "replace", "old": "120", "new": "150"} in hunk["ops"]
    assert data["links"]["commands"] == {"history": f"monitor history {SOURCE}",
                                         "diff": f"monitor diff {SOURCE} --from 1 --to 2"}
    assert [r.state for r in rows(store)] == ["delivered"]


def test_receiver_accepts_the_signed_body_and_rejects_a_tampered_one(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    Dispatcher(store, config(webhook(receiver))).run_once()
    sent = receiver.received[0]
    tampered = sent.body.replace(b"150", b"151")

    assert verify(SECRET, sent.headers, sent.body)
    assert not verify(SECRET, sent.headers, tampered)
    answer = requests.post(receiver.url, data=tampered, headers=dict(sent.headers), timeout=5)
    assert answer.status_code == 401
    assert receiver.rejected == 1 and len(receiver.received) == 1


def test_secret_without_whsec_prefix_signs_with_its_raw_bytes(
    store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = WebhookReceiver(secret="plain-shared-secret")
    try:
        monkeypatch.setenv(SECRET_ENV, "plain-shared-secret")
        register(store)
        append(store, SOURCE, NUMBER_EDIT)
        assert Dispatcher(store, config(webhook(raw))).run_once().delivered == 1
        assert raw.rejected == 0 and len(raw.received) == 1
    finally:
        raw.down()


def test_receiver_down_for_three_tries_then_up_gets_the_alert_exactly_once(
    store, receiver
) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    clock = ManualClock()
    dispatcher = Dispatcher(store, config(webhook(receiver, retry_base="1s", retry_max="10s")),
                            clock=clock)
    assert dispatcher.enqueue() == 1
    receiver.down()

    for attempt in (1, 2, 3):
        assert dispatcher.deliver_due().retrying == 1
        (row,) = rows(store)
        assert (row.state, row.attempts) == ("retrying", attempt)
        assert row.last_error.endswith("/…: cannot connect (Connection refused)")
        assert dispatcher.deliver_due().attempted == 0  # not due before its backoff
        clock.advance(10)
    receiver.up()

    assert dispatcher.deliver_due().delivered == 1
    for _ in range(3):
        clock.advance(3600)
        assert dispatcher.run_once().attempted == 0
    assert len(receiver.ids()) == 1
    (row,) = rows(store)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 4, None)


def test_receiver_answering_410_dead_letters_once_never_retried_and_listed(
    store, receiver, db_url: str, tmp_path
) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    receiver.answer_always(410)
    clock = ManualClock()
    dispatcher = Dispatcher(store, config(webhook(receiver)), clock=clock)

    assert dispatcher.run_once().dead == 1
    for _ in range(5):
        clock.advance(24 * 3600)
        assert dispatcher.run_once().attempted == 0
    assert receiver.requests == 1

    listed = monitor("--database", db_url, "alerts", "--state", "dead", "--format", "json",
                     cwd=tmp_path)
    assert listed.code == 0, listed.err
    (dead,) = listed.json()
    assert (dead["state"], dead["attempts"], dead["channel"]) == ("dead", 1, "hook")
    assert "410" in dead["last_error"]
    text = monitor("--database", db_url, "alerts", cwd=tmp_path)
    assert "dead" in text.out and "410" in text.out

    retried = monitor("--database", db_url, "alerts", "retry", "--dead", cwd=tmp_path)
    assert retried.code == 0, retried.err
    receiver.answer_always(None)
    assert dispatcher.deliver_due().delivered == 1
    assert len(receiver.ids()) == 1


def test_server_errors_are_retried_and_the_last_try_dead_letters(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    receiver.answer_always(503)
    clock = ManualClock()
    dispatcher = Dispatcher(store, config(webhook(receiver, max_attempts=3, retry_base="1s")),
                            clock=clock)
    states = []
    for _ in range(5):
        dispatcher.run_once()
        states.append(rows(store)[0].state)
        clock.advance(3600)
    assert states == ["retrying", "retrying", "dead", "dead", "dead"]
    assert receiver.requests == 3


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    receiver.answer_always(500)
    clock = ManualClock()
    waits = []
    dispatcher = Dispatcher(store, config(webhook(receiver, retry_base="10s", retry_max="60s")),
                            clock=clock, rand=lambda: 1.0)
    for _ in range(5):
        dispatcher.run_once()
        waits.append((rows(store)[0].next_attempt_at - clock()).total_seconds())
        clock.advance(3600)
    assert waits == [10, 20, 40, 60, 60]
    low = Dispatcher(store, config(webhook(receiver, retry_base="10s")), rand=lambda: 0.0)
    assert low.routes["hook"].policy.retry_delay(1, low.rand) == 5  # half the step at least


# --- filters -----------------------------------------------------------------
def _all_kinds_of_alert(store: EventStore) -> None:
    register(store)
    register(store, "list-mfa-press")
    append(store, SOURCE, TYPO_EDIT)  # low
    append(store, SOURCE, NUMBER_EDIT)  # high
    append(store, "list-mfa-press", DocumentPublished(
        item_id="1", url="https://www.gov.kz/x", title="New release"))  # medium
    append(store, SOURCE, DocumentRemoved(status=404, confirmations=3))  # high


def _kinds(store: EventStore, channel: str) -> list[tuple[str, str]]:
    return [(r.kind, r.stream_id) for r in rows(store, channel)]


def test_min_significance_leaves_out_lower_alerts(store, receiver) -> None:
    _all_kinds_of_alert(store)
    Dispatcher(store, config(webhook(receiver, "all"),
                             webhook(receiver, "medium", min_significance="medium"),
                             webhook(receiver, "high", min_significance="high"))).enqueue()
    assert [k for k, _ in _kinds(store, "all")] == ["changed", "changed", "published", "removed"]
    assert [k for k, _ in _kinds(store, "medium")] == ["changed", "published", "removed"]
    assert [k for k, _ in _kinds(store, "high")] == ["changed", "removed"]


def test_sources_globs_pick_sources_by_name(store, receiver) -> None:
    _all_kinds_of_alert(store)
    Dispatcher(store, config(webhook(receiver, "mfa", sources=["mfa-*"]),
                             webhook(receiver, "lists", sources=["list-*", "nothing-*"]),
                             webhook(receiver, "none", sources=["moj-*"]))).enqueue()
    assert {s for _, s in _kinds(store, "mfa")} == {SOURCE}
    assert _kinds(store, "lists") == [("published", "list-mfa-press")]
    assert _kinds(store, "none") == []


def test_events_setting_picks_the_kinds_of_alert(store, receiver) -> None:
    _all_kinds_of_alert(store)
    Dispatcher(store, config(webhook(receiver, "published", events=["published"]),
                             webhook(receiver, "gone", events=["removed", "failing"]))).enqueue()
    assert [k for k, _ in _kinds(store, "published")] == ["published"]
    assert [k for k, _ in _kinds(store, "gone")] == ["removed"]


def test_source_failing_past_the_threshold_alerts_once_per_streak(store, receiver) -> None:
    def fail() -> StoredEvent:
        return append(store, SOURCE, FetchFailedEvent(kind="timeout", message="no answer"))[0]

    store.clock = clock = ManualClock()
    register(store)
    fail()
    fail()
    clock.advance(0.25)
    crossing = fail()  # 0.25 s into the streak: over 0.2 s
    fail()
    append(store, SOURCE, SourceRecovered(failures=4))
    fail()  # a new streak
    clock.advance(0.25)
    second = fail()
    dispatcher = Dispatcher(store, config(webhook(receiver, "quick", failing_after="200ms"),
                                          webhook(receiver, "patient", failing_after="6h"),
                                          webhook(receiver, "default")), clock=clock)
    dispatcher.run_once()

    assert [(r.kind, r.event_id) for r in rows(store, "quick")] == [
        ("failing", crossing.event_id), ("failing", second.event_id)]
    assert rows(store, "patient") == [] and rows(store, "default") == []
    body = receiver.received[0].json()
    assert body["type"] == "source.failing"
    first = body["data"]
    assert (first["title"], first["source"]["name"]) == (TITLE, SOURCE)
    assert first["significance"] == "high"
    assert first["failing"]["failures"] == 3
    assert first["failing"]["error"] == {"kind": "timeout", "message": "no answer",
                                         "status": None}
    assert first["summary"].startswith("failing for ")


def test_published_and_removed_alerts_carry_what_happened(store, receiver) -> None:
    _all_kinds_of_alert(store)
    Dispatcher(store, config(webhook(receiver, events=["published", "removed"]))).run_once()
    published, removed = (r.json() for r in receiver.received)
    assert published["type"] == "document.published"
    assert published["data"]["title"] == "New release"
    assert published["data"]["published"]["url"] == "https://www.gov.kz/x"
    assert published["data"]["significance"] == "medium"
    assert removed["type"] == "document.removed"
    gone = removed["data"]
    assert gone["title"] == TITLE
    assert (gone["from_version"]["number"], gone["to_version"]) == (3, None)
    assert gone["removed"] == {"status": 404, "confirmations": 3,
                               "judged_by": "http_404", "said": "not found (HTTP 404)",
                               "evidence": {"final_url": None, "status": None, "phrase": None,
                                            "redirects": []},
                               "last_text": f"{INTRO}\n\nThe delegation had 150 members.",
                               "last_text_truncated": False}
    assert gone["hunks"] == []


def test_an_event_is_enqueued_once_whoever_reads_the_log(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    setup = config(webhook(receiver))
    assert Dispatcher(store, setup).enqueue() == 1
    assert Dispatcher(store, setup).enqueue() == 0
    assert Dispatcher(store, setup, name="another").enqueue() == 0  # UNIQUE(event, channel)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 1


def test_without_channels_events_wait_for_one(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    assert Dispatcher(store, config()).run_once().enqueued == 0
    assert Dispatcher(store, config(webhook(receiver))).run_once().delivered == 1


def test_a_first_dispatch_alerts_on_the_backfill_window_not_on_older_history(
    store, receiver
) -> None:
    from dataclasses import replace

    register(store)
    old = append(store, SOURCE, NUMBER_EDIT)[-1]
    recent = append(store, SOURCE, TYPO_EDIT)[-1]
    clock = ManualClock()
    with store.engine.begin() as conn:  # the log's history before `recent` is 3 days old
        conn.execute(update(events).where(events.c.position <= old.position)
                     .values(recorded_at=clock() - timedelta(days=3)))
    dispatcher = Dispatcher(store, config(webhook(receiver)), clock=clock)
    assert dispatcher.run_once().delivered == 1
    assert [r.event_id for r in rows(store)] == [recent.event_id]
    # A backfill longer than any history (past what a timedelta holds), in a dispatcher
    # of another name: all of it.
    everything = replace(config(webhook(receiver, name="all")), alerts_backfill=1e20)
    assert Dispatcher(store, everything, name="archive", clock=clock).run_once().delivered == 2


# --- e-mail --------------------------------------------------------------------
def mail(sink: SmtpSink, **settings: Any) -> dict[str, Any]:
    return {"name": "mail", "kind": "email", "host": "127.0.0.1", "port": sink.port,
            "security": "none", "from": "Monitor <monitor@example.org>",
            "to": ["desk@example.org", "editor@example.org"], "timeout": "5s", **settings}


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_email_arrives_with_page_text_escaped_and_a_subject_naming_source_and_significance(
    store, smtp_sink
) -> None:
    register(store)
    hostile = change("The delegation had 120 members.",
                     "The delegation had 150 members. <script>alert(1)</script>")
    event = append(store, SOURCE, hostile)[-1]

    assert Dispatcher(store, config(mail(smtp_sink))).run_once().delivered == 1

    (message,) = smtp_sink.messages
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == f"[high] {TITLE} ({SOURCE}): {hostile.event.summary}"
    assert alert_id(event.event_id, "mail") in message["Message-ID"]
    assert smtp_sink.envelopes[0][1] == ["desk@example.org", "editor@example.org"]
    plain, html = _parts(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "line-through" in html and "<del " in html and "<ins " in html
    assert "[-120-]{+150+}" in plain
    assert "<script>alert(1)</script>" in plain  # plain text is text: nothing to escape
    assert f"monitor history {SOURCE}" in plain


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert, key), made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the TLS e-mail tests need the openssl command (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_verifies_the_server_against_the_ca_bundle(
    store, certificate: tuple[str, str], security: str
) -> None:
    cert, key = certificate
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    with SmtpSink(security, cert, key) as sink:
        untrusted = Dispatcher(store, config(mail(sink, security=security)), name="untrusted")
        first = untrusted.run_once()
        assert (first.delivered, first.retrying) == (0, 1)  # not trusted: not sent, kept
        [row] = rows(store, "mail")
        assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
        assert sink.messages == []

        trusted = mail(sink, security=security, ca_bundle=cert, name="mail-tls")
        assert Dispatcher(store, config(trusted), name="trusted").run_once().delivered == 1
        (message,) = sink.messages
        assert message["Subject"].startswith(f"[high] {TITLE} ({SOURCE}): ")


def test_email_refused_for_good_is_dead_lettered(store, smtp_sink) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    smtp_sink.reject_with = "554 rejected by policy"
    assert Dispatcher(store, config(mail(smtp_sink))).run_once().dead == 1
    (row,) = rows(store)
    assert "554" in row.last_error


# --- apprise -------------------------------------------------------------------
def test_apprise_url_channel_sends_title_and_short_diff(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    url = receiver.plain_url.replace("http://", "json://")
    setup = config({"name": "chat", "kind": "apprise", "url": url})
    assert Dispatcher(store, setup).run_once().delivered == 1
    (sent,) = [json.loads(body) for body in receiver.plain]
    assert sent["title"].startswith(f"[high] {TITLE} ({SOURCE}): ")
    assert sent["message"].startswith(f"{TITLE} ({SOURCE})\n")
    assert "[-120-]{+150+}" in sent["message"]
    assert "alert id: alert_" in sent["message"]


# --- configuration -------------------------------------------------------------
@pytest.mark.parametrize(("setting", "message"), [
    ({"min_significance": "urgent"}, "alerts[0].min_significance: 'urgent' is not one of"),
    ({"events": ["changed", "edited"]}, "alerts[0].events: 'edited' is not one of"),
    ({"failing_after": "soon"}, "alerts[0].failing_after:"),
    ({"url": "ftp://example.org"}, "alerts[0].url: 'ftp://example.org' is not an http(s) URL"),
    ({"secret_env": None}, "alerts[0].secret_env: is required"),
    ({"retries": 3}, "alerts[0].retries: unknown key for a webhook channel"),
])
def test_bad_channel_settings_fail_at_start_naming_the_key(
    store, receiver, setting: dict[str, Any], message: str
) -> None:
    spec = {k: v for k, v in {**webhook(receiver), **setting}.items() if v is not None}
    with pytest.raises(ConfigError, match="^configuration: " + re.escape(message)):
        Dispatcher(store, config(spec))


def test_unknown_kind_and_duplicate_names_are_config_errors(store, receiver) -> None:
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.kind: unknown kind 'pager'"):
        Dispatcher(store, config({"name": "x", "kind": "pager"}))
    with pytest.raises(ConfigError, match=r"alerts\[1\]\.name: 'hook' is used by another"):
        Dispatcher(store, config(webhook(receiver), webhook(receiver)))


def test_missing_secret_is_reported_at_use_and_retried(
    store, receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    monkeypatch.delenv(SECRET_ENV)
    clock = ManualClock()
    dispatcher = Dispatcher(store, config(webhook(receiver)), clock=clock)
    assert dispatcher.run_once().retrying == 1
    assert f"environment variable {SECRET_ENV} is not set" in rows(store)[0].last_error
    monkeypatch.setenv(SECRET_ENV, SECRET)
    clock.advance(3600)
    assert dispatcher.run_once().delivered == 1


# --- the schema ------------------------------------------------------------------
def test_rebuild_leaves_the_outbox_alone_and_migrations_go_both_ways(store, receiver) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    Dispatcher(store, config(webhook(receiver))).run_once()
    projections.rebuild(store.engine)
    assert [r.state for r in rows(store)] == ["delivered"]

    migrate.downgrade(store.engine, "0001")
    assert migrate.current_revision(store.engine) == "0001"
    migrate.upgrade(store.engine)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert rows(store) == []


# --- the command line ------------------------------------------------------------
def _toml(db_url: str, hook: WebhookReceiver) -> str:
    return (f'[database]\nurl = "{db_url}"\n\n[[alerts]]\nname = "hook"\nkind = "webhook"\n'
            f'url = "{hook.url}"\nsecret_env = "{SECRET_ENV}"\ntimeout = "5s"\n')


def test_cli_dispatch_test_and_list(
    store, receiver, db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(store)
    append(store, SOURCE, NUMBER_EDIT)
    append(store, SOURCE, TYPO_EDIT)
    (tmp_path / "monitor.toml").write_text(_toml(db_url, receiver), encoding="utf-8")
    env = {SECRET_ENV: SECRET}

    sent = monitor("alerts", "dispatch", "--format", "json", cwd=tmp_path, env=env)
    assert sent.code == 0, sent.err
    assert sent.json()["enqueued"] == 2 and sent.json()["delivered"] == 2
    again = monitor("alerts", "dispatch", cwd=tmp_path, env=env)
    assert again.out.strip() == "0 enqueued, 0 delivered, 0 to retry, 0 dead"
    assert len(receiver.ids()) == 2

    listed = monitor("alerts", "--format", "json", cwd=tmp_path, env=env).json()
    assert [d["state"] for d in listed] == ["delivered", "delivered"]

    ok = monitor("alerts", "test", "hook", cwd=tmp_path, env=env)
    assert ok.code == 0, ok.err
    assert "sent: hook (webhook): HTTP 204" in ok.out
    sample = receiver.received[-1].json()
    assert sample["type"] == "change.detected"
    assert (sample["data"]["title"], sample["data"]["source"]["name"]) == (
        "Sample press release", "sample-source")
    receiver.answer_always(500)
    failed = monitor("alerts", "test", "hook", cwd=tmp_path, env=env)
    assert failed.code == 1
    assert "test alert through hook (webhook) failed:" in failed.err and "500" in failed.err
    unknown = monitor("alerts", "test", "nope", cwd=tmp_path, env=env)
    assert unknown.code == 2 and "no alert channel named 'nope'" in unknown.err
    monkeypatch.delenv(SECRET_ENV)
    no_secret = monitor("alerts", "test", "hook", cwd=tmp_path)
    assert no_secret.code == 2 and SECRET_ENV in no_secret.err


# --- pure parts, as properties -----------------------------------------------------
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
       st.floats(0, 1e6, allow_nan=False))
def test_one_failure_per_streak_crosses_the_threshold_iff_the_streak_lasts_that_long(
    gaps: list[float], threshold: float
) -> None:
    start = datetime(2026, 1, 1)
    times = [start]
    for gap in gaps[1:]:
        times.append(times[-1] + timedelta(seconds=gap))
    streaks = [Streak(start, times[i - 1] if i else None, at, i + 1) for i, at in enumerate(times)]
    crossing = [s for s in streaks if s.crosses(threshold)]
    lasted = times[-1] - start >= timedelta(seconds=threshold)
    assert len(crossing) == (1 if lasted else 0)


@given(st.integers(1, 200), st.floats(0, 1))
def test_retry_waits_half_to_all_of_the_capped_exponential_step(attempt: int, r: float) -> None:
    policy = Policy(retry_base=30, retry_max=3600)
    step = min(3600, 30 * 2 ** min(attempt - 1, 60))
    assert step / 2 <= policy.retry_delay(attempt, lambda: r) <= step


@given(st.binary(max_size=2000), st.text(min_size=1, max_size=40), st.binary(min_size=1))
def test_our_signatures_verify_with_an_independent_implementation(
    body: bytes, message_id: str, key: bytes
) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    stamp = int(time.time())
    headers = {"webhook-id": message_id, "webhook-timestamp": str(stamp),
               "webhook-signature": signature(secret_key(secret), message_id, stamp, body)}
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")


def test_with_a_public_url_every_alert_links_to_the_web_app_not_a_command() -> None:
    from monitor.alerts.render import html_body, short_text, text_body
    from monitor.alerts.sample import sample_alert

    alert = sample_alert("https://monitor.example.org")
    diff = "https://monitor.example.org/sources/"
    for body in (text_body(alert), html_body(alert), short_text(alert)):
        assert "https://monitor.example.org/sources/" in body
        assert "monitor history" not in body
    assert f'href="{diff}' in html_body(alert) and "/diff?from=" in html_body(alert)
    without = sample_alert(None)
    assert "monitor history" in text_body(without) and diff not in text_body(without)
