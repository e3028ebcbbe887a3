"""Every alert, report entry and listing leads with the document's title; the
source's name comes second, and stands in, marked, when no title is known.

Titles are page text: escaped in HTML, one clean line in subjects and terminals,
capped in length. Real parts: SQLite and PostgreSQL stores, the loopback SMTP
server, the `monitor` command.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from change_story import (
    ARCHIVED,
    HOSTILE_TITLE,
    NEW_TITLE,
    TITLE,
    Story,
    record_story,
)
from cli_helpers import monitor
from test_alerts import config

from monitor.alerts import Dispatcher
from monitor.alerts.render import MAX_SUBJECT, SUBJECT_TITLE
from monitor.replica.smtp_sink import SmtpSink
from monitor.report.filters import parse_filter
from monitor.report.formats import render_report
from monitor.report.gather import gather_report
from monitor.store import EventStore
from monitor.store.eventstore import utcnow

ATOM = "{http://www.w3.org/2005/Atom}"
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def story(store: EventStore) -> Story:
    return record_story(store)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def mailed(store: EventStore, sink: SmtpSink, source: str) -> list[EmailMessage]:
    """The e-mails a channel watching `source` gets, in the order of the log."""
    channel = {"name": "mail", "kind": "email", "host": "127.0.0.1", "port": sink.port,
               "security": "none", "from": "monitor@example.org", "to": ["desk@example.org"],
               "timeout": "5s", "sources": [source]}
    summary = Dispatcher(store, config(channel)).run_once()
    assert summary.delivered == summary.enqueued == len(sink.messages) > 0
    return list(sink.messages)


def subject(message: EmailMessage) -> str:
    # The parser keeps the space a folded "Subject:" line starts with; readers drop it.
    return str(message["Subject"]).lstrip()


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return (plain.get_content().replace("\r\n", "\n"),
            html.get_content().replace("\r\n", "\n"))


def report(store: EventStore, fmt: str) -> str:
    now = utcnow()
    return render_report(gather_report(store.engine, parse_filter("1d", None, None, None, now),
                                       now), fmt)


# --- alerts ---------------------------------------------------------------------
def test_email_leads_with_the_title_then_the_source(
    store: EventStore, story: Story, smtp: SmtpSink
) -> None:
    message = mailed(store, smtp, "mfa-press")[0]
    plain, html = bodies(message)
    assert subject(message).startswith(f"[high] {TITLE} (mfa-press): 1 number changed")
    assert plain.startswith(f"{TITLE} (mfa-press)\n1 number changed in paragraph 1\n")
    # Times in the default timezone (Asia/Almaty, UTC+5), in the one human form.
    assert re.search(r"\nversions:     1 → 2, captured \d{4}-\d\d-\d\d \d\d:\d\d \+05:00 "
                     r"and \d{4}-\d\d-\d\d \d\d:\d\d \+05:00\n", plain)
    heading = re.search(r"<h1[^>]*>\s*(.*?)\s*</h1>", html, re.DOTALL)
    assert heading is not None and heading.group(1) == TITLE
    assert html.index(TITLE) < html.index("mfa-press")
    assert "monitor diff mfa-press --from 1 --to 2" in plain


def test_a_title_change_shows_old_and_new_title(
    store: EventStore, story: Story, smtp: SmtpSink
) -> None:
    message = mailed(store, smtp, "mfa-press")[1]
    plain, html = bodies(message)
    assert subject(message).startswith(f"[high] {TITLE} → {NEW_TITLE} (mfa-press): "
                                         "title changed")
    assert f"title:        {TITLE} → {NEW_TITLE}\n" in plain
    assert f"{TITLE} → {NEW_TITLE}" in html
    assert f"== {TITLE} → {NEW_TITLE} (mfa-press) · changed" in report(store, "text")


def test_an_unknown_title_falls_back_to_the_source_name_marked_as_such(
    store: EventStore, story: Story, smtp: SmtpSink
) -> None:
    (message,) = mailed(store, smtp, "mfa-notice")
    plain, html = bodies(message)
    assert subject(message).startswith("[medium] mfa-notice (title unknown): ")
    assert plain.startswith("mfa-notice (title unknown)\n")
    assert "(title unknown)" in html
    assert "== mfa-notice (title unknown) · changed" in report(store, "text")
    untitled = next(c for c in json.loads(report(store, "json"))["changes"]
                    if c["event_id"] == story.untitled_edit)
    assert untitled["title"] is None  # data says unknown; people see the source's name


def test_a_removal_alert_carries_the_title_the_last_version_and_its_text(
    store: EventStore, story: Story, smtp: SmtpSink
) -> None:
    (message,) = mailed(store, smtp, "mfa-archive")
    plain, html = bodies(message)
    assert subject(message).startswith("[high] Archived statement (mfa-archive): removed")
    assert re.search(r"last stored:  version 1, captured \d{4}-\d\d-\d\d \d\d:\d\d \+05:00, "
                     r"dated 2025-10-01\n", plain)
    assert ARCHIVED.paragraphs[0] in plain and ARCHIVED.paragraphs[0] in html
    assert ARCHIVED.paragraphs[-1] not in plain  # a long text is shortened in a message…
    left_out = re.search(r"\((\d+) more characters: monitor show mfa-archive@1\)", plain)
    assert left_out is not None and int(left_out.group(1)) > 1000  # …saying how to read it all


def test_a_hostile_title_is_escaped_in_html_and_one_capped_clean_line_in_a_subject(
    store: EventStore, story: Story, smtp: SmtpSink
) -> None:
    (message,) = mailed(store, smtp, "mfa-hostile")
    line = subject(message)
    plain, html = bodies(message)
    assert not HIDDEN.search(line) and "\n" not in line
    assert len(line) <= MAX_SUBJECT
    title = line.removeprefix("[high] ").split(" (mfa-hostile)")[0]
    assert title.startswith("<script>alert(1)</script> Decree") and len(title) <= SUBJECT_TITLE
    assert "<script" not in html.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in plain and "\u202e" not in plain and "\x1b" not in html


# --- reports ---------------------------------------------------------------------
def test_every_report_format_leads_each_entry_with_the_title(
    store: EventStore, story: Story
) -> None:
    assert f"\n== {TITLE} (mfa-press) · changed · HIGH\n" in report(store, "text")
    assert f"\n## {TITLE} (mfa-press) · changed · HIGH\n" in report(store, "markdown")
    assert f"<h2>{TITLE} (mfa-press) · changed" in report(store, "html")
    feed = ET.fromstring(report(store, "atom"))
    titles = [e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")]
    assert f"[high] {TITLE} (mfa-press): 1 number changed in paragraph 1" in titles
    assert "[high] Archived statement (mfa-archive): removed: not found on 3 consecutive " \
           "checks (HTTP 404)" in titles
    changes = {c["event_id"]: c for c in json.loads(report(store, "json"))["changes"]}
    assert changes[story.number_edit]["title"] == TITLE
    assert changes[story.title_edit]["title"] == NEW_TITLE
    assert changes[story.removed]["title"] == "Archived statement"


def test_report_shows_a_removal_with_its_last_stored_version(
    store: EventStore, story: Story
) -> None:
    text = report(store, "text")
    assert re.search(r"last stored: v1, captured [\d-]+ [\d:]+ \+05:00, dated 2025-10-01", text)
    assert "- **Last stored:** v1, captured " in report(store, "markdown")


def test_a_hostile_title_is_escaped_in_every_report_and_clean_on_a_terminal(
    store: EventStore, story: Story
) -> None:
    text = report(store, "text")
    assert not HIDDEN.search(text.replace("\n", ""))
    assert "No.\ufffd 5 very long" in text  # controls shown as U+FFFD, the words kept
    html = report(store, "html")
    assert "<script" not in html.lower() and "&lt;script&gt;alert(1)" in html
    assert "\\<script\\>" in report(store, "markdown")
    atom = report(store, "atom")
    assert "<script" not in atom.lower()
    ET.fromstring(atom)  # still well-formed XML


# --- listings --------------------------------------------------------------------
def test_sources_and_history_lead_with_the_title(
    store: EventStore, story: Story, db_url: str, tmp_path: Path
) -> None:
    env = {"MONITOR_DATABASE_URL": db_url}
    listed = monitor("sources", cwd=tmp_path, env=env)
    assert listed.code == 0, listed.err
    press = next(line for line in listed.out.splitlines() if " mfa-press " in line)
    notice = next(line for line in listed.out.splitlines() if " mfa-notice " in line)
    hostile = next(line for line in listed.out.splitlines() if " mfa-hostile " in line)
    assert press.startswith(NEW_TITLE)
    assert notice.startswith("(title unknown)")
    assert not HIDDEN.search(hostile) and hostile.startswith(HOSTILE_TITLE[:25])
    assert hostile.index("…") < hostile.index("mfa-hostile") <= 64  # the title is capped
    assert len(listed.out.splitlines()) == 5  # one line per source

    history = monitor("history", "mfa-press", cwd=tmp_path, env=env)
    assert history.code == 0, history.err
    first, *rest = history.out.splitlines()
    assert first == f"{NEW_TITLE} (mfa-press)"
    assert any(line.startswith("  v1 ") and line.endswith(f"title: {TITLE}") for line in rest)
    assert any(line.startswith("  v3 ") and line.endswith(f"title: {NEW_TITLE}") for line in rest)
    assert not any(line.startswith("  v2 ") and "title:" in line for line in rest)
    data = monitor("history", "mfa-press", "--format", "json", cwd=tmp_path, env=env).json()
    assert data["title"] == NEW_TITLE
