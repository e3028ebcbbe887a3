"""A Save Page Now API that answers garbage, trickles, never stops, or names an
unusable job: each is a retried delivery with a clear error, no crash of the
channel (no traceback in the log), nothing recorded, and the dispatcher is held no
longer than the channel's `timeout`."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from http_faults import FaultServer, Reply
from sqlalchemy import text
from test_alerts import append as append_events
from test_alerts import change as edit
from test_alerts import config, register
from test_wayback import ACCESS_ENV, SECRET_KEY_ENV, copies
from test_wayback import _keys as _keys  # the autouse fixture: the API keys in the env

from monitor.alerts import Dispatcher
from monitor.alerts.channels.webhook import _seconds
from monitor.store import EventStore

JSON = "application/json"


def wayback(server: FaultServer) -> dict[str, Any]:
    return {"name": "archive", "kind": "wayback", "api_url": server.url("/").rstrip("/"),
            "access_key_env": ACCESS_ENV, "secret_key_env": SECRET_KEY_ENV, "poll": "10ms",
            "wait": "3s", "timeout": "2s"}


@pytest.mark.parametrize(("reply", "said"), [
    (Reply.page(b"[" * 100_000 + b"]" * 100_000, JSON), "answered HTTP 200 without JSON"),
    (Reply.page(b'{"job_id": "a/../b\\u0000\\u001b"}', JSON), "a job id that is not one"),
    (Reply(503, b"", {"Retry-After": "\u00b2"}), "answered HTTP 503"),
    (Reply(200, b'{"job_id": "j"}' + b" " * 40, {"Content-Type": JSON}, trickle=0.5),
     "no whole answer within 2 s"),
    (Reply(200, b"", {"Content-Type": JSON}, stream=50_000_000), "no whole answer"),
], ids=["nested-json", "job-id-with-nul", "unicode-retry-after", "trickle", "endless"])
def test_a_hostile_archive_api_is_a_retried_delivery_not_a_crash(
        store: EventStore, reply: Reply, said: str, caplog: pytest.LogCaptureFixture) -> None:
    register(store)
    append_events(store, "mfa-2025-12-11-human-rights-penitentiary-en",
                  edit("First words.", "Second words."))
    with FaultServer() as server:
        server.route("/save", reply)
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            got = Dispatcher(store, config(wayback(server))).run_once()
        took = time.monotonic() - started
    assert got.retrying == 1, got
    with store.engine.connect() as conn:
        (error,) = conn.execute(text("SELECT last_error FROM deliveries")).scalars()
    assert said in error
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
    assert copies(store) == []
    assert took < 10  # the timeout (2 s) bounds the whole answer, not each byte


def test_a_retry_after_in_other_digits_is_ignored() -> None:
    assert _seconds("\u00b2") is None and _seconds("\u0663") is None
    assert _seconds(" 30 ") == 30.0
