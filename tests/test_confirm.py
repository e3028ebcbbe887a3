"""Confirmed changes: what becomes of a change read again after its `confirm` delay.

Real parts: the log is appended to SQLite and PostgreSQL stores, the dispatcher sends
to a webhook receiver on 127.0.0.1 that checks signatures, time is a test clock. The
daemon end to end is in test_confirm_daemon.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from change_story import assert_valid
from test_alerts import (
    SECRET_ENV,
    SOURCE,
    append,
    change,
    config,
    mail,
    register,
    rows,
    webhook,
)

from monitor.alerts import Dispatcher
from monitor.clock import ManualClock
from monitor.config import load_config
from monitor.confirm import GRACE, Confirmations, ConfirmPlan, Pending
from monitor.errors import ConfigError
from monitor.events import SourceReconfigured
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore

TO_B = change("First words.", "Second words.")  # the baseline holds "First words."
BACK_TO_A = change("Second words.", "First words.")
TO_C = change("Second words.", "Third words.")


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _setup(store: EventStore, receiver: WebhookReceiver, **channel: Any):  # type: ignore[no-untyped-def]
    register(store)
    clock = ManualClock()
    settings = config(webhook(receiver, confirm="2m", **channel))
    return Dispatcher(store, settings, clock=clock), Confirmations(
        store, ConfirmPlan.of(settings), clock), clock


def _one_pending(confirmations: Confirmations) -> Pending:
    found = confirmations.pending()
    assert len(found) == 1
    assert found[0].delay == 120
    return found[0]


def _types(store: EventStore) -> list[str]:
    return [e.type for e in store.read_stream(SOURCE, 1)]


def test_a_confirmed_change_waits_for_its_recheck_then_alerts_once(store, receiver) -> None:
    dispatcher, confirmations, clock = _setup(store, receiver)
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    assert [r.state for r in rows(store)] == ["confirming"]
    assert receiver.received == []
    pending = _one_pending(confirmations)
    assert confirmations.pending() == []  # handed out once
    clock.advance(121)
    decision = confirmations.settle(pending, "unchanged")
    assert decision.outcome == "confirmed"
    assert confirmations.settle(pending, "unchanged").outcome == "confirmed"  # once
    assert _types(store).count("ChangeRechecked") == 1
    dispatcher.run_once()
    dispatcher.run_once()
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert [(r.kind, r.state) for r in rows(store)] == [("changed", "delivered")]


def test_a_change_undone_within_the_delay_alerts_once_as_reverted(store, receiver) -> None:
    dispatcher, confirmations, clock = _setup(store, receiver)
    first = append(store, SOURCE, TO_B)[-1]
    dispatcher.run_once()
    pending = _one_pending(confirmations)
    clock.advance(30)
    back = append(store, SOURCE, BACK_TO_A)[-1]  # an ordinary check saw it go back
    dispatcher.run_once()
    assert receiver.received == []  # both wait
    clock.advance(91)
    decision = confirmations.settle(pending, "unchanged")
    assert (decision.outcome, decision.by) == ("reverted", back.event_id)
    dispatcher.run_once()
    clock.advance(600)
    dispatcher.run_once()
    bodies = [r.json() for r in receiver.received]
    assert [b["type"] for b in bodies] == ["change.reverted"]
    body = bodies[0]
    assert_valid(body, "webhook.schema.json")
    data = body["data"]
    assert data["event_id"] == first.event_id
    assert data["reverted"]["event_id"] == back.event_id
    assert data["reverted"]["to_version"]["text_hash"] == data["from_version"]["text_hash"]
    assert data["to_version"]["text_hash"] != data["from_version"]["text_hash"]
    assert "changed back" in data["summary"]
    assert sorted((r.event_id == back.event_id, r.kind, r.state) for r in rows(store)) == [
        (False, "reverted", "delivered"), (True, "changed", "dropped")]
    # Nothing is lost from the record: both changes and the link between them.
    assert _types(store).count("ChangeDetected") == 2
    assert "ChangeRechecked" in _types(store)


def test_a_reverted_email_says_it_changed_back_and_shows_the_change(store, receiver) -> None:
    register(store)
    clock = ManualClock()
    with SmtpSink() as sink:
        settings = config(mail(sink, confirm="1m"))
        dispatcher = Dispatcher(store, settings, clock=clock)
        confirmations = Confirmations(store, ConfirmPlan.of(settings), clock)
        append(store, SOURCE, TO_B)
        append(store, SOURCE, BACK_TO_A)
        dispatcher.run_once()
        found = confirmations.pending()
        clock.advance(61)
        confirmations.settle(found[0], "unchanged")
        dispatcher.run_once()
        assert len(sink.messages) == 1
        message = sink.messages[0]
    subject = str(message["Subject"])
    assert subject.startswith("[")
    assert "changed, then changed back" in subject
    plain = message.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "version 3 has the text of version 1 again" in text
    assert "[-First-]{+Second+}" in text  # the change that was undone, as a word diff


def test_reverted_drop_sends_nothing_for_either_change(store, receiver) -> None:
    dispatcher, confirmations, clock = _setup(store, receiver, reverted="drop")
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    pending = _one_pending(confirmations)
    append(store, SOURCE, BACK_TO_A)
    clock.advance(121)
    confirmations.settle(pending, "unchanged")
    dispatcher.run_once()
    # The change back's own re-check comes later; it stays dropped.
    later = confirmations.pending()
    assert len(later) == 1
    clock.advance(121)
    confirmations.settle(later[0], "unchanged")
    clock.advance(GRACE + 1)
    dispatcher.run_once()
    assert receiver.received == []
    assert [r.state for r in rows(store)] == ["dropped", "dropped"]


def test_a_change_changed_again_within_the_delay_alerts_as_changed(store, receiver) -> None:
    dispatcher, confirmations, clock = _setup(store, receiver)
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    pending = _one_pending(confirmations)
    third = append(store, SOURCE, TO_C)[-1]
    clock.advance(121)
    decision = confirmations.settle(pending, "unchanged")
    assert (decision.outcome, decision.by) == ("changed_again", third.event_id)
    dispatcher.run_once()
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]
    assert [r.state for r in rows(store)] == ["delivered", "confirming"]  # B→C waits its turn
    later = _one_pending(confirmations)
    clock.advance(121)
    assert confirmations.settle(later, "unchanged").outcome == "confirmed"
    dispatcher.run_once()
    assert [r.json()["data"]["event_id"] for r in receiver.received][-1] == third.event_id
    assert len(receiver.received) == 2


def test_a_restarted_daemon_finds_the_pending_confirmation_in_the_log(store, receiver) -> None:
    _, confirmations, clock = _setup(store, receiver)
    settled = append(store, SOURCE, TO_B)[-1]
    _one_pending(confirmations)
    confirmations.settle(Pending(settled.event_id, SOURCE, settled.version,
                                 settled.recorded_at, 120), "unchanged")
    waiting = append(store, SOURCE, TO_C)[-1]
    restarted = Confirmations(store, ConfirmPlan.of(dispatcher_config(receiver)), clock)
    found = restarted.pending()
    assert [p.event_id for p in found] == [waiting.event_id]  # the settled one is not
    assert found[0].due_at == waiting.recorded_at + timedelta(seconds=120)
    # A change whose time passed long ago is the dispatcher's to settle, not re-checked.
    clock.advance(120 + GRACE + 1)
    assert Confirmations(store, ConfirmPlan.of(dispatcher_config(receiver)),
                         clock).pending() == []


def dispatcher_config(receiver: WebhookReceiver):  # type: ignore[no-untyped-def]
    return config(webhook(receiver, confirm="2m"))


def test_without_a_recheck_the_dispatcher_settles_from_the_log_after_the_grace(
        store, receiver) -> None:
    dispatcher, _, clock = _setup(store, receiver)
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    clock.advance(120 + GRACE - 5)
    dispatcher.run_once()
    assert receiver.received == []
    clock.advance(10)
    dispatcher.run_once()
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]


def test_without_a_recheck_a_change_back_in_the_log_still_makes_it_reverted(
        store, receiver) -> None:
    dispatcher, _, clock = _setup(store, receiver)
    append(store, SOURCE, TO_B)
    clock.advance(60)
    append(store, SOURCE, BACK_TO_A)  # recorded by `monitor check` from cron, say
    dispatcher.run_once()
    clock.advance(120 + GRACE)
    dispatcher.run_once()
    clock.advance(120 + GRACE)
    dispatcher.run_once()
    assert [r.json()["type"] for r in receiver.received] == ["change.reverted"]
    body = receiver.received[0].json()
    assert_valid(body, "webhook.schema.json")
    assert body["data"]["reverted"]["confirm_seconds"] is None  # no re-check ran
    assert [(r.kind, r.state) for r in rows(store)] == [("reverted", "delivered"),
                                                        ("changed", "dropped")]


def test_a_recheck_that_cannot_read_the_page_lets_the_change_alert(store, receiver) -> None:
    dispatcher, confirmations, clock = _setup(store, receiver)
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    pending = _one_pending(confirmations)
    clock.advance(121)
    assert confirmations.settle(pending, "failed", "timeout: no answer").outcome == "unchecked"
    rechecked = [e for e in store.read_stream(SOURCE, 1) if e.type == "ChangeRechecked"]
    assert rechecked[0].data["detail"] == "timeout: no answer"
    dispatcher.run_once()
    assert [r.json()["type"] for r in receiver.received] == ["change.detected"]


def test_a_source_confirm_holds_every_channel_and_sets_the_delay(store, receiver) -> None:
    register(store)
    store.append(SOURCE, store.stream_version(SOURCE), [SourceReconfigured(
        changes={"options": {"confirm": 300.0}})])
    clock = ManualClock()
    settings = config(webhook(receiver), webhook(receiver, name="fast", confirm="1m",
                                                 sources=["other-*"]))
    plan = ConfirmPlan.of(settings)
    assert plan.delay(SOURCE, {"confirm": 300.0}) == 300
    assert plan.delay("other-x", {}) == 60
    assert plan.delay("other-x", {"confirm": 0}) == 60
    assert plan.delay(SOURCE, {"confirm": 0}) == 0
    defaults = ConfirmPlan.of(replace(settings, default_confirm=30.0))
    assert (defaults.delay(SOURCE, {}), defaults.delay(SOURCE, {"confirm": 0})) == (30, 0)
    dispatcher = Dispatcher(store, settings, clock=clock)
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    assert [r.state for r in rows(store)] == ["confirming"]
    assert Confirmations(store, plan, clock).pending()[0].delay == 300


def test_confirm_keys_are_checked_where_they_are_given(tmp_path: Path, receiver) -> None:
    def load(text: str) -> Any:
        path = tmp_path / "monitor.toml"
        path.write_text(text)
        return load_config(str(path))

    source = '[[sources]]\nname = "a"\nurl = "https://example.org/a"\n'
    assert load(source + 'confirm = "2m"\n').sources[0].confirm == 120
    assert load('[defaults]\nconfirm = "30s"\n' + source).default_confirm == 30
    for bad, said in (('"2d"', r"0 \(off\) or 1s to 1d"), ('"0.5s"', "1s to 1d"),
                      ("true", "not a duration")):
        with pytest.raises(ConfigError, match=rf"sources\[0\]\.confirm: .*{said}"):
            load(source + f"confirm = {bad}\n")
    hook = (f'[[alerts]]\nname = "h"\nkind = "webhook"\nurl = "{receiver.url}"\n'
            f'secret_env = "{SECRET_ENV}"\n')
    assert load(hook + 'confirm = "5s"\nreverted = "drop"\n').alerts[0].settings["confirm"]
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.confirm: .*1s to 1d"):
        load(hook + 'confirm = "3d"\n')
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.reverted: .*not one of alert, drop"):
        load(hook + 'reverted = "maybe"\n')
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.reverted: .*leaves out reverted"):
        load(hook + 'events = ["changed"]\nreverted = "alert"\n')


def test_add_takes_confirm_and_refuses_a_bad_one(run) -> None:
    url = "https://www.example.org/statement"
    bad = run("add", url, "--confirm", "5d")
    assert bad.code != 0 and "--confirm" in bad.err and "Traceback" not in bad.err
    assert run("add", "--no-probe", url, "--name", "st", "--confirm", "90s").code == 0
    assert run("add", url, "--confirm", "0").code == 0  # 0: off, kept to override defaults
    assert run("add", url, "--interval", "1h").code == 0  # --confirm not given: kept
    recorded = [json.loads(line)["data"] for line in run("events", "--json").out.splitlines()]
    assert recorded[0]["options"] == {"confirm": 90.0}
    assert recorded[1]["changes"] == {"options": {"confirm": 0.0}}
    assert recorded[2]["changes"] == {"interval_seconds": 3600}
