"""What a server says cannot drive the user's terminal: a reason phrase holding ESC[2J,
colours and an OSC window title is stored and printed with its controls made
visible (U+FFFD), never raw, and so is anything an older record holds raw."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import monitor
from http_faults import FaultServer, Reply

from monitor.alerts import Dispatcher
from monitor.catalog import register
from monitor.clock import ManualClock
from monitor.config import AlertConfig, Config, SourceConfig
from monitor.events import FetchFailedEvent
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

# Clear the screen, turn red, set the window title (OSC … BEL), an 8-bit CSI (C1).
EVIL = "\x1b[2J\x1b[31mHACKED\x1b[0m\x1b]0;owned\x07 \x9b1m"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SECRET_ENV = "TEST_ESCAPES_WEBHOOK_SECRET"


def assert_clean(text: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"control characters {found!r} in {text!r}"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.route("/down", Reply(503, b"", reason=EVIL))
        yield running


def cli(db_url: str, tmp_path: Path, *args: str) -> str:
    config = tmp_path / "monitor.toml"
    config.write_text('[fetch]\nretries = 0\nmin_delay_per_host = "0s"\n', encoding="utf-8")
    result = monitor(*args, cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url,
                                               "MONITOR_CONFIG": str(config)})
    assert result.code == 0, result.err
    assert_clean(result.out + result.err)
    return result.out


def test_a_reason_phrase_with_escapes_is_stored_and_printed_harmless(
        server: FaultServer, store, checker, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name="page", url=server.url("/down"), kind="html",
                                 interval_seconds=60))
    result = checker.check("page")
    assert result.outcome == "failed"
    failure = store.read_stream("page")[-1]
    assert failure.type == "FetchFailed" and failure.data["kind"] == "server_error"
    message = failure.data["message"]
    assert_clean(message)
    assert "503 \ufffd[2J\ufffd[31mHACKED\ufffd[0m\ufffd]0;owned\ufffd \ufffd1m" in message

    out = cli(db_url, tmp_path, "check", "page")  # the line `check` prints
    assert "page: failed" in out and "\ufffd[2J" in out
    assert "\ufffd[2J" in cli(db_url, tmp_path, "sources")
    assert "\ufffd[2J" in cli(db_url, tmp_path, "sources", "--show", "page")
    assert "\ufffd[2J" in cli(db_url, tmp_path, "events")
    events = cli(db_url, tmp_path, "events", "--json").splitlines()
    assert "\ufffd[2J" in json.loads(events[-1])["data"]["message"]


def test_escapes_an_older_record_holds_raw_are_neutralised_where_shown(
        store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # Registered as the monitor did before a URL with control characters was refused.
    import re

    from monitor import validation

    with monkeypatch.context() as before:
        before.setattr(validation, "_CONTROLS", re.compile("(?!)"))
        register(store, SourceConfig(name="old",
                                     url="https://example.org/" + EVIL.replace(" ", ""),
                                     kind="html", interval_seconds=60))
    raw = FetchFailedEvent(kind="server_error", message=f"https://example.org/ answered 503 {EVIL}",
                           status=503)
    store.append("old", store.stream_version("old"), [raw])
    store.append("old", store.stream_version("old"), [raw])
    assert EVIL in store.read_stream("old")[-1].data["message"]  # stored as it was

    for args in (("sources",), ("sources", "--show", "old"), ("events",), ("events", "--json"),
                 ("sources", "--format", "json")):
        assert "HACKED" in cli(db_url, tmp_path, *args)

    # The `failing` alert derived from such a record carries no control either.
    monkeypatch.setenv(SECRET_ENV, SECRET)
    store.clock = clock = ManualClock()  # from now on: time passes when the test says
    clock.advance(0.15)
    store.append("old", store.stream_version("old"), [raw])
    with WebhookReceiver() as receiver:
        channel = AlertConfig("hook", "webhook", {"url": receiver.url, "secret_env": SECRET_ENV,
                                                  "failing_after": "100ms"})
        Dispatcher(store, Config(path=None, database_url=db_url, alerts=(channel,)),
                   clock=clock).run_once()
        [body] = [r.json() for r in receiver.received]
    assert body["type"] == "source.failing"
    alert = body["data"]
    assert_clean(alert["summary"] + alert["failing"]["error"]["message"])
    assert "\ufffd[2J" in alert["summary"]
