"""Digests and the reader's language: one message per period, grouped by document,
the most significant first; summaries, headings and dates in the channel's language
and timezone; the outbox's guarantees kept for digests.

Real parts: the story is appended to SQLite and PostgreSQL stores, webhooks go to a
loopback receiver that checks signatures, mail to aiosmtpd on loopback; time is a
test clock. The daemon's end-to-end run is in test_digest_daemon.py.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from change_story import TITLE, Story, assert_valid, record_story
from cli_helpers import child_environment
from conftest import REPO
from test_alerts import SECRET_ENV, config, rows, smtp_sink, webhook

from monitor.alerts import Dispatcher
from monitor.alerts.alert import alert_id
from monitor.alerts.digest import period_end
from monitor.alerts.dispatcher import CRASH_ENV
from monitor.clock import ManualClock
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.i18n import LANGUAGES, Reader
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

__all__ = ["smtp_sink"]  # the fixture, shared with test_alerts
LEVEL = {"high": 3, "medium": 2, "low": 1, "none": 0}
LOCALE = REPO / "monitor" / "locale"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def story(store) -> Story:  # type: ignore[no-untyped-def]
    return record_story(store)


def mail(sink: SmtpSink, name: str = "mail", **settings: Any) -> dict[str, Any]:
    return {"name": name, "kind": "email", "host": "127.0.0.1", "port": sink.port,
            "security": "none", "from": "monitor@example.org", "to": "desk@example.org",
            **settings}


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


# --- periods ------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "seconds", "zone", "end"), [
    # Almaty is UTC+5: its midnight is 19:00 UTC the day before.
    ("2026-01-05 09:30:12", 86400, "Asia/Almaty", "2026-01-05 19:00:00"),
    ("2026-01-05 20:00:00", 86400, "Asia/Almaty", "2026-01-06 19:00:00"),
    ("2026-01-05 09:30:12", 86400, "Europe/Moscow", "2026-01-05 21:00:00"),
    ("2026-01-05 09:30:12", 86400, "UTC", "2026-01-06 00:00:00"),
    ("2026-01-05 09:30:12", 3600, "Asia/Almaty", "2026-01-05 10:00:00"),
    # Kolkata is UTC+5:30: its hours end at half past, in UTC.
    ("2026-01-05 09:30:12", 3600, "Asia/Kolkata", "2026-01-05 10:30:00"),
    ("2026-01-05 09:30:00", 900, "UTC", "2026-01-05 09:45:00"),  # a boundary opens the next
    ("2026-01-05 09:30:12", 2, "UTC", "2026-01-05 09:30:14"),
])
def test_a_period_ends_on_the_channels_wall_clock(now: str, seconds: int, zone: str,
                                                  end: str) -> None:
    found = period_end(datetime.fromisoformat(now), seconds, Reader("en", zone))
    assert found == datetime.fromisoformat(end)


# --- the digest through the dispatcher ----------------------------------------------
def test_a_digest_channel_sends_every_alert_of_the_period_in_one_post_grouped_and_ordered(
    store, story: Story, receiver: WebhookReceiver  # type: ignore[no-untyped-def]
) -> None:
    clock = ManualClock()
    setup = config(webhook(receiver, "hourly", digest="1h"), webhook(receiver, "single"))
    dispatcher = Dispatcher(store, setup, clock=clock)
    dispatcher.run_once()
    singles = {r.webhook_id: r.json() for r in receiver.received}
    assert len(singles) == 6 and all(i.startswith("alert_") for i in singles)
    held = rows(store, "hourly")
    assert {r.state for r in held} == {"held"} and len(held) == 6

    clock.advance(3600)
    assert dispatcher.run_once().delivered == 1
    clock.advance(3600)
    assert dispatcher.run_once().attempted == 0  # nothing twice
    (post,) = [r for r in receiver.received if r.webhook_id not in singles]
    assert post.webhook_id.startswith("digest_")
    body = post.json()
    assert_valid(body, "webhook.schema.json")
    assert body["type"] == "digest" and body["data"]["channel"] == "hourly"
    assert body["data"]["documents"] == 5
    changes = body["data"]["changes"]
    # Every change once, as the single alerts carried it (the one change schema).
    by_event = {b["data"]["event_id"]: b["data"] for b in singles.values()}
    assert sorted(c["event_id"] for c in changes) == sorted(by_event)
    for item in changes:
        assert item == by_event[item["event_id"]]
    # Grouped by document, the most significant documents first, each in log order.
    sources = [c["source"]["name"] for c in changes]
    groups = list(dict.fromkeys(sources))
    assert len(groups) == 5 and all(sources.count(g) == sources[sources.index(g):].count(g)
                                    for g in groups)  # contiguous
    top = [max(LEVEL[c["significance"]] for c in changes if c["source"]["name"] == g)
           for g in groups]
    assert top == sorted(top, reverse=True) and top[0] == 3 and top[-1] < 3
    assert groups[0] == "mfa-press"
    press = [c for c in changes if c["source"]["name"] == "mfa-press"]
    assert [c["event_id"] for c in press] == [story.number_edit, story.title_edit]
    # The members say which digest carried them; the digest is the one delivery.
    members = rows(store, "hourly")
    digest_row = next(r for r in members if r.kind == "digest")
    assert digest_row.state == "delivered" and digest_row.alert_id == post.webhook_id
    assert {r.state for r in members if r.kind != "digest"} == {"digested"}
    assert {r.digest_id for r in members if r.kind != "digest"} == {post.webhook_id}


def test_a_digest_email_speaks_russian_in_moscow_time_with_lang_ru(
    store, story: Story, smtp_sink: SmtpSink  # type: ignore[no-untyped-def]
) -> None:
    clock = ManualClock()
    clock.set(datetime(2026, 1, 5, 9, 30))  # 12:30 in Moscow
    setup = config(mail(smtp_sink, digest="1d", language="ru", timezone="Europe/Moscow"))
    dispatcher = Dispatcher(store, setup, clock=clock)
    dispatcher.run_once()
    assert smtp_sink.messages == []
    clock.set(datetime(2026, 1, 5, 21, 0))  # midnight in Moscow closes the day
    assert dispatcher.run_once().delivered == 1
    (message,) = smtp_sink.messages
    # Folded at ": " in transit, and the space is kept (Python's own folding lost it).
    assert str(message["Subject"]) == "[высокая] Сводка, 2026-01-05: 6 изменений в 5 документах"
    assert message["Content-Language"] == "ru"
    plain, html = parts(message)
    assert '<html lang="ru">' in html
    assert re.search(r"^с 2026-01-05 00:00 \+03:00 по 2026-01-06 00:00 \+03:00$", plain,
                     re.MULTILINE)
    assert "1 число изменено в абзаце 1" in plain and "опубликован новый документ" in plain
    assert "изменён заголовок" in plain and "[-удалено-] {+добавлено+}" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html  # page text stays escaped
    # Documents lead with their title, the most significant first.
    headings = re.findall(r"^== (.+) \[(\S+)\]$", plain, re.MULTILINE)
    assert headings[0][0].startswith("Human rights conference in Astana (mfa-press)")
    levels = [h[1] for h in headings]
    order = {"высокая": 3, "средняя": 2, "низкая": 1, "нет": 0}
    assert [order[x] for x in levels] == sorted((order[x] for x in levels), reverse=True)


def test_a_single_alert_in_kazakh_and_in_almaty_time_by_default(
    store, story: Story, smtp_sink: SmtpSink  # type: ignore[no-untyped-def]
) -> None:
    setup = config(mail(smtp_sink, language="kk", events=["changed"], sources=["mfa-notice"]))
    assert Dispatcher(store, setup).run_once().delivered == 1
    (message,) = smtp_sink.messages
    plain, html = parts(message)
    assert '<html lang="kk">' in html and message["Content-Language"] == "kk"
    assert "маңыздылығы:" in plain and "анықталды:" in plain
    # Dates keep the one shape in every language, in Almaty time (UTC+5).
    assert re.search(r"анықталды:\s+\d{4}-\d\d-\d\d \d\d:\d\d \+05:00\n", plain)
    assert plain.startswith("mfa-notice (тақырып белгісіз)\n1 мәтін түзетуі — 1-абзацта\n")
    assert "маңыздылығы:  орташа (тұжырым)" in plain


def test_english_is_the_default_and_keeps_the_recorded_summary(
    store, story: Story, smtp_sink: SmtpSink  # type: ignore[no-untyped-def]
) -> None:
    setup = config(mail(smtp_sink, sources=["mfa-press"], events=["changed"]))
    Dispatcher(store, setup).run_once()
    first = smtp_sink.messages[0]
    _, html = parts(first)
    assert str(first["Subject"]).strip().startswith(
        f"[high] {TITLE} (mfa-press): 1 number changed in")
    assert '<html lang="en">' in html and " +05:00" in html  # Asia/Almaty unless told


def test_a_digest_sent_but_not_recorded_is_sent_again_with_the_same_id(
    store, db_url: str, receiver: WebhookReceiver  # type: ignore[no-untyped-def]
) -> None:
    record_story(store)
    child = f"""
import sys, time
from datetime import timedelta
from monitor.alerts import Dispatcher
from monitor.config import AlertConfig, Config
from monitor.store import open_store
db_url, hook_url = sys.argv[1:3]
channel = AlertConfig("hook", "webhook", {{"url": hook_url, "secret_env": "{SECRET_ENV}",
                                           "digest": "1s"}})
dispatcher = Dispatcher(open_store(db_url), Config(None, db_url, alerts=(channel,)),
                        lease=timedelta(seconds=0.1))
deadline = time.monotonic() + 20
while not dispatcher.run_once().delivered and time.monotonic() < deadline:
    time.sleep(0.2)
"""
    env = child_environment()
    env[SECRET_ENV] = SECRET

    def run(crash: str | None) -> int:
        if crash:
            env[CRASH_ENV] = crash
        else:
            env.pop(CRASH_ENV, None)
        return subprocess.run([sys.executable, "-c", child, db_url, receiver.url], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60).returncode

    assert run("after_send") == -signal.SIGKILL
    assert len(receiver.received) == 1
    assert run(None) == 0
    first, again = receiver.received
    assert first.webhook_id == again.webhook_id and first.webhook_id.startswith("digest_")
    assert first.json() == again.json()
    states = sorted((r.kind, r.state) for r in rows(store, "hook"))
    assert states.count(("digest", "delivered")) == 1 and len(states) == 7
    assert sorted({s for k, s in states if k != "digest"}) == ["digested"]


def test_the_digest_id_is_derived_from_the_channel_period_and_members(
    store, story: Story, receiver: WebhookReceiver  # type: ignore[no-untyped-def]
) -> None:
    from monitor.alerts.digest import digest_id

    end = datetime(2026, 1, 5, 19, 0)
    members = [alert_id(e, "c") for e in (story.number_edit, story.removed)]
    assert digest_id("c", end, members) == digest_id("c", end, list(reversed(members)))
    assert digest_id("c", end, members) != digest_id("d", end, members)
    assert digest_id("c", end, members) != digest_id("c", end + timedelta(days=1), members)
    assert digest_id("c", end, members) != digest_id("c", end, members[:1])


# --- settings -----------------------------------------------------------------------
@pytest.mark.parametrize(("settings", "expected"), [
    ({"language": "de"}, "alerts[0].language: 'de' is not one of en, ru, kk"),
    ({"timezone": "Mars/Olympus"}, "alerts[0].timezone: 'Mars/Olympus' is not a known IANA"),
    ({"timezone": "../../etc/passwd"}, "alerts[0].timezone: '../../etc/passwd' is not a known"),
    ({"digest": "0s"}, "alerts[0].digest: '0s' is too short"),
    ({"digest": "daily"}, "alerts[0].digest: 'daily' is not a duration"),
])
def test_bad_reader_settings_fail_at_start_in_one_line(
    store, receiver: WebhookReceiver, settings: dict[str, Any], expected: str  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(ConfigError) as caught:
        Dispatcher(store, config(webhook(receiver, **settings)))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_display_sets_the_default_language_and_timezone(tmp_path: Path, receiver) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "monitor.toml"
    path.write_text(f'[display]\nlanguage = "ru"\ntimezone = "Europe/Moscow"\n'
                    f'[[alerts]]\nname = "h"\nkind = "webhook"\nurl = "{receiver.url}"\n'
                    f'secret_env = "{SECRET_ENV}"\n[[alerts]]\nname = "k"\nkind = "webhook"\n'
                    f'url = "{receiver.url}"\nsecret_env = "{SECRET_ENV}"\nlanguage = "kk"\n')
    loaded = load_config(str(path))
    from monitor.alerts.channels import routes

    found = routes(loaded)
    assert found["h"].audience.reader == Reader("ru", "Europe/Moscow")
    assert found["k"].audience.reader == Reader("kk", "Europe/Moscow")
    path.write_text('[display]\ntimezone = "Nowhere/Town"\n')
    with pytest.raises(ConfigError, match=r"display\.timezone: 'Nowhere/Town' is not a known"):
        load_config(str(path))
    path.write_text('[display]\nzone = "UTC"\n')
    with pytest.raises(ConfigError, match=r"display\.zone: unknown key"):
        load_config(str(path))
    assert replace(load_config(None)).display_timezone == "Asia/Almaty"


# --- the catalogs -------------------------------------------------------------------
def _msgids() -> set[Any]:
    keywords = {"_": None, "gettext": None, "g": None, "ngettext": (1, 2), "n": (1, 2)}
    methods = [("monitor/alerts/**.py", "python"), ("monitor/report/**.py", "python"),
               ("monitor/alerts/templates/**", "jinja2.ext:babel_extract"),
               ("monitor/report/templates/**", "jinja2.ext:babel_extract")]
    return {message for _, _, message, _, _ in
            extract_from_dir(str(REPO), method_map=methods, keywords=keywords)}


def test_every_message_has_a_translation_in_both_catalogs_with_the_same_placeholders() -> None:
    wanted = _msgids()
    assert len(wanted) > 50 and "Digest" in wanted
    for language in LANGUAGES:
        if language == "en":
            continue
        with (LOCALE / language / "LC_MESSAGES" / "monitor.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        held = {m.id: m.string for m in catalog if m.id}
        missing = [m for m in wanted if m not in held]
        assert not missing, f"{language}: no translation for {missing}"
        for message_id, string in held.items():
            forms = string if isinstance(string, tuple) else (string,)
            assert all(forms), f"{language}: {message_id!r} is empty"
            sources = message_id if isinstance(message_id, tuple) else (message_id,)
            names = set(re.findall(r"\{(\w+)\}", sources[-1]))
            for form in forms:
                assert set(re.findall(r"\{(\w+)\}", form)) == names, (language, message_id)
        assert not [m for m in held if m not in wanted], f"{language}: unused messages"


def test_russian_plurals_follow_the_number() -> None:
    say = Reader("ru").ngettext
    assert [say("{n} change", "{n} changes", k).format(n=k) for k in (1, 3, 5, 11, 21, 22)] == [
        "1 изменение", "3 изменения", "5 изменений", "11 изменений", "21 изменение",
        "22 изменения"]


# --- the report ---------------------------------------------------------------------
def _report_cli(store, db_url: str, tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    from cli_helpers import monitor

    return monitor("report", "--since", "1d", "--format", "html", *args, cwd=tmp_path,
                   env={"MONITOR_DATABASE_URL": db_url})


def test_the_html_report_takes_the_readers_language_and_timezone(
    store, story: Story, db_url: str, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    russian = _report_cli(store, db_url, tmp_path, "--language", "ru",
                          "--timezone", "Europe/Moscow")
    assert russian.code == 0, russian.err
    page = russian.out
    assert '<html lang="ru">' in page
    assert "<title>Изменения с " in page and "по настоящее время</title>" in page
    assert "Сформирован " in page and " +03:00" in page and "+05:00" not in page
    assert "1 число изменено в абзаце 1" in page and "опубликован новый документ" in page
    assert "удалён: документа нет при 3 проверках подряд" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    english = _report_cli(store, db_url, tmp_path)
    assert english.code == 0 and '<html lang="en">' in english.out
    assert "1 number changed in paragraph 1" in english.out and " +05:00" in english.out
    bad = _report_cli(store, db_url, tmp_path, "--timezone", "Asia/Nowhere")
    assert bad.code != 0 and "--timezone: 'Asia/Nowhere' is not a known IANA timezone" in bad.err
    assert "Traceback" not in bad.err and len(bad.err.strip().splitlines()) == 1
    kazakh = _report_cli(store, db_url, tmp_path, "--language", "kk")
    assert '<html lang="kk">' in kazakh.out and "Жасалған уақыты:" in kazakh.out


def test_alerts_held_for_a_digest_go_out_alone_once_the_channel_drops_its_digest(
    store, story: Story, receiver: WebhookReceiver  # type: ignore[no-untyped-def]
) -> None:
    Dispatcher(store, config(webhook(receiver, digest="1d"))).run_once()
    assert {r.state for r in rows(store, "hook")} == {"held"} and not receiver.received
    assert Dispatcher(store, config(webhook(receiver))).run_once().delivered == 6
    assert all(i.startswith("alert_") for i in receiver.ids())


def test_an_apprise_digest_is_one_message_in_kazakh(
    store, story: Story, receiver: WebhookReceiver  # type: ignore[no-untyped-def]
) -> None:
    import json

    clock = ManualClock()
    url = receiver.plain_url.replace("http://", "json://")
    setup = config({"name": "chat", "kind": "apprise", "url": url, "digest": "1h",
                    "language": "kk"})
    dispatcher = Dispatcher(store, setup, clock=clock)
    dispatcher.run_once()
    assert receiver.plain == []
    clock.advance(3600)
    assert dispatcher.run_once().delivered == 1
    (sent,) = [json.loads(body) for body in receiver.plain]
    assert sent["title"].startswith("[жоғары] Жиынтық, ")
    assert sent["title"].endswith(": 6 өзгеріс 5 құжатта")
    assert "- жаңа құжат жарияланды" in sent["message"]
    assert "alert id: digest_" in sent["message"]
    lines = sent["message"].splitlines()
    assert lines.index("mfa-notice (тақырып белгісіз) [орташа]") > lines.index(
        "Human rights conference in Astana (mfa-press) [жоғары]")
