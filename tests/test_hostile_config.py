"""Channel settings a careless user may write: an `events` list that can never send
is refused at load; `digest` with `confirm` holds the change for its re-check, then
puts the settled alert (reverted or changed) in the period's one digest."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_alerts import SOURCE, append, rows
from test_confirm import BACK_TO_A, TO_B, _one_pending, _setup
from test_confirm import _secret as _secret  # the autouse fixture: the webhook secret

from monitor.config import load_config
from monitor.errors import ConfigError


@pytest.mark.parametrize(("events", "said"), [
    ("[]", "lists nothing"),
    ('["reverted"]', '"reverted" without "changed"'),
    ('["reverted", "published"]', '"reverted" without "changed"'),
])
def test_an_events_list_that_can_never_send_is_refused(tmp_path: Path, events: str,
                                                       said: str) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[[alerts]]\nname = "hook"\nkind = "webhook"\n'
                    f'url = "http://127.0.0.1:9/"\nsecret_env = "X_SECRET"\nevents = {events}\n')
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.events") as refused:
        load_config(path)
    assert said in str(refused.value)


def test_a_digest_with_confirm_carries_one_reverted_alert_and_not_the_change_back(
        store, receiver) -> None:  # type: ignore[no-untyped-def]
    dispatcher, confirmations, clock = _setup(store, receiver, digest="1h")
    append(store, SOURCE, TO_B)
    dispatcher.run_once()
    assert [(r.kind, r.state) for r in rows(store)] == [("changed", "confirming")]
    pending = _one_pending(confirmations)
    clock.advance(30)
    append(store, SOURCE, BACK_TO_A)
    dispatcher.run_once()
    clock.advance(91)
    assert confirmations.settle(pending, "unchanged").outcome == "reverted"
    dispatcher.run_once()
    clock.advance(7200)
    dispatcher.run_once()
    dispatcher.run_once()
    (only,) = [r.json() for r in receiver.received]
    assert only["type"] == "digest"
    (changed,) = only["data"]["changes"]
    assert changed["reverted"] and "changed back" in changed["summary"]
