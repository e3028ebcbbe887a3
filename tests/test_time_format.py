"""One way to write time (monitor.moments): every time a machine reads is RFC 3339 in
UTC with a Z and six fraction digits; every time a person reads is
'2026-01-05 10:30 -05:00', in `[display] timezone` (or the alert channel's own), with
its offset.

Real parts: a SQLite store holding the change story (tests/change_story.py), recorded
at one moment by a test clock; the CLI as users run it; a webhook receiver and
aiosmtpd on loopback. The zone is America/New_York, neither UTC nor the default."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from change_story import record_story
from cli_helpers import monitor
from test_alerts import SECRET_ENV, webhook

from monitor.alerts import Dispatcher
from monitor.clock import ManualClock
from monitor.config import AlertConfig, Config
from monitor.evidence import ledger
from monitor.i18n import Reader
from monitor.moments import human, human_day, utc_iso, zone_label
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore, open_store

ZONE = "America/New_York"
T = datetime(2026, 1, 5, 15, 30, 45, 123456)  # UTC: 10:30 in New York (EST, -05:00)
LOCAL = "2026-01-05 10:30 -05:00"
MACHINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
HUMAN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)? [+-]\d\d:\d\d")  # seconds: the ledger
# Anything that looks like a time of day after a date, in any spelling.
LOOKS_LIKE_TIME = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z| ?[+-]\d\d:?\d\d| UTC)?")


@pytest.fixture
def place(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, EventStore]]:
    """A store with the story, a check ledger row and delivered alerts, all at T, and a
    monitor.toml that shows times in New York."""
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    request.getfixturevalue("_sqlite_template").copy_to(url)
    clock = ManualClock(T)
    store = open_store(url, check_schema=False, clock=clock)
    record_story(store)
    ledger.Ledger(store.engine).record("mfa-press", T, 200, ledger.UNCHANGED, 3, None)
    (tmp_path / "monitor.toml").write_text(
        f'[database]\nurl = "{url}"\n\n[display]\ntimezone = "{ZONE}"\n', encoding="utf-8")
    yield tmp_path, store
    store.engine.dispose()


def run(where: Path, *args: str) -> str:
    result = monitor(*args, cwd=where)
    assert result.code == 0, (args, result.err)
    return result.out


def assert_human(text: str, *, at_t: bool = True) -> None:
    found = LOOKS_LIKE_TIME.findall(text)
    assert found, text[:400]
    wrong = [f for f in found if not HUMAN.fullmatch(f)]
    assert not wrong, wrong
    assert all(f.endswith("-05:00") for f in found), found  # New York in January
    if at_t:
        assert any(f in (LOCAL, LOCAL.replace(" -", ":45 -")) for f in found), found
    assert "15:30" not in text  # the UTC hour is never shown to people here


def machine_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in machine_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in machine_strings(v)]
    return [value] if isinstance(value, str) and LOOKS_LIKE_TIME.match(value) else []


def assert_machine(value: Any) -> None:
    found = machine_strings(value)
    assert found, str(value)[:400]
    wrong = [f for f in found if not MACHINE.fullmatch(f)]
    assert not wrong, wrong
    assert any(f.startswith("2026-01-05T15:30:45") for f in found), found


# --- the forms themselves -------------------------------------------------------------
def test_the_forms() -> None:
    assert utc_iso(T) == "2026-01-05T15:30:45.123456Z"
    assert utc_iso(T.replace(microsecond=0)) == "2026-01-05T15:30:45.000000Z"  # one width
    assert human(T, ZONE) == LOCAL
    assert human(datetime(2026, 7, 5, 15, 30), ZONE) == "2026-07-05 11:30 -04:00"  # DST
    assert human(T, "Asia/Kolkata") == "2026-01-05 21:00 +05:30"
    assert human(T, "UTC") == "2026-01-05 15:30 +00:00"
    assert human_day(datetime(2026, 1, 5, 20, 0), "Asia/Almaty") == "2026-01-06"
    assert zone_label("Asia/Almaty", T) == "Asia/Almaty (UTC+05:00)"
    # The same shape in every language: Babel's long forms differ, this does not.
    assert {Reader(lang, ZONE).moment(T) for lang in ("en", "ru", "kk")} == {LOCAL}


# --- what people read -----------------------------------------------------------------
def test_the_cli_shows_people_the_configured_zone(place: tuple[Path, EventStore]) -> None:
    where, _ = place
    assert_human(run(where, "history", "mfa-press"))
    checks = run(where, "history", "mfa-press", "--checks")
    assert_human(checks)
    assert "2026-01-05 10:30:45 -05:00" in checks  # a check is told to the second
    assert_human(run(where, "sources", "--show", "mfa-press"))
    assert_human(run(where, "events"))
    assert_human(run(where, "diff", "mfa-press"))
    for fmt in ("text", "markdown", "html"):
        out = run(where, "report", "--since", "2026-01-01", "--format", fmt)
        assert_human(out)


def test_alerts_speak_in_the_channels_zone(place: tuple[Path, EventStore],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    where, store = place
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with SmtpSink() as sink, WebhookReceiver() as hook:
        mail = {"host": "127.0.0.1", "port": sink.port, "security": "none",
                "from": "monitor@example.org", "to": "desk@example.org",
                "sources": ["mfa-press"], "events": ["changed"]}
        setup = Config(path=None, database_url="", display_timezone=ZONE, alerts=(
            AlertConfig("mail", "email", dict(mail)),
            AlertConfig("tokyo", "email", {**mail, "timezone": "Asia/Tokyo"}),
            AlertConfig("hook", "webhook", {k: v for k, v in webhook(hook).items()
                                            if k not in ("name", "kind")}),
        ))
        summary = Dispatcher(store, setup, clock=ManualClock(T)).run_once()
        assert summary.delivered >= 3
        assert len(sink.messages) == 4  # two changes of mfa-press, to each mail channel
        for body in [hook_body.json() for hook_body in hook.received]:
            assert_machine(body)
    texts = []
    for message in sink.messages:
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None and html is not None
        texts.append(plain.get_content() + html.get_content())
    new_york = [t for t in texts if "-05:00" in t]
    tokyo = [t for t in texts if "+09:00" in t]
    assert len(new_york) == 2 and len(tokyo) == 2
    for text in new_york:
        assert_human(text, at_t=True)
    for text in tokyo:  # the channel's own zone wins: 00:30 the next day in Tokyo
        assert "2026-01-06 00:30 +09:00" in text and "-05:00" not in text
    # The deliveries list, for people, in the configured zone.
    listed = run(where, "alerts")
    assert "delivered " + LOCAL in listed
    assert_human(listed)
    assert_machine(json.loads(run(where, "alerts", "--format", "json")))


# --- what machines read ---------------------------------------------------------------
def test_every_json_output_is_utc_with_a_z(place: tuple[Path, EventStore]) -> None:
    where, _ = place
    for args in (("history", "mfa-press"), ("history", "mfa-press", "--checks"),
                 ("sources",), ("sources", "--show", "mfa-press"),
                 ("show", "mfa-press"), ("report", "--since", "2026-01-01")):
        assert_machine(json.loads(run(where, *args, "--format", "json")))
    lines = run(where, "events", "--json").splitlines()
    assert_machine([json.loads(line) for line in lines])
    atom = run(where, "report", "--since", "2026-01-01", "--format", "atom")
    dates = re.findall(r"<(updated|published)>([^<]*)<", atom)
    assert dates and all(MACHINE.fullmatch(d) for _, d in dates), dates
    assert "<updated>2026-01-05T15:30:45.123456Z</updated>" in atom
    # The entries' texts are for people: in the configured zone.
    assert LOCAL in atom and "15:30 UTC" not in atom


def test_the_daemons_log_lines_are_machine_output(capfd: pytest.CaptureFixture[str]) -> None:
    """The daemon's log (what `make run` and a service's journal show) starts each line
    with the machine form, not the host's local time without a zone."""
    import logging

    from monitor.cli.daemon import configure_logging

    root = logging.getLogger()
    kept = root.handlers[:], root.level
    root.handlers = []
    try:
        configure_logging("info")
        logging.getLogger("monitor.daemon").info("source=x failed")
    finally:
        root.handlers, level = kept
        root.setLevel(level)
    line = capfd.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(MACHINE.pattern + r" INFO monitor\.daemon source=x failed", line), line
