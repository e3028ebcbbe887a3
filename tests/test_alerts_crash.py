"""Alerts survive crashes and concurrent dispatchers: every alert reaches the
receiver, and de-duplicating by webhook-id leaves exactly one of each.

The crash test runs the dispatcher in child processes that SIGKILL themselves
at a named point (MONITOR_TEST_CRASH_AT, see monitor.alerts.dispatcher.crash_point),
forked from a server with the modules imported (tests/forked.py).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from cli_helpers import monitor
from forked import forkserver
from test_alerts import SECRET_ENV, SOURCE, append, change, config, register, rows, webhook

from monitor.alerts import Dispatcher
from monitor.alerts.alert import alert_id
from monitor.alerts.dispatcher import CRASH_ENV, CRASH_POINTS
from monitor.config import AlertConfig, Config
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore, open_store

LEASE_SECONDS = 0.1  # one child at a time: a short lease cannot let two send at once
RUNS = 20


def _dispatch_until_done(db_url: str, hook_url: str, crash_at: str | None,
                         errors: str) -> None:
    """A child process: dispatch one alert at a time until none is due, or die at
    `crash_at`. An exception is written to `errors` for the test to show."""
    os.environ[SECRET_ENV] = SECRET
    os.environ.pop(CRASH_ENV, None)
    if crash_at:
        os.environ[CRASH_ENV] = crash_at
    try:
        channel = AlertConfig("hook", "webhook", {"url": hook_url, "secret_env": SECRET_ENV,
                                                  "timeout": "5s", "retry_base": "0s"})
        dispatcher = Dispatcher(open_store(db_url), Config(None, db_url, alerts=(channel,)),
                                lease=timedelta(seconds=LEASE_SECONDS), batch=1)
        while dispatcher.run_once().attempted:
            pass
    except BaseException:
        Path(errors).write_text(traceback.format_exc(), encoding="utf-8")
        raise SystemExit(1) from None


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _dispatch_in_child(db_url: str, hook: WebhookReceiver, crash_at: str | None,
                       tmp_path: Path) -> int:
    errors = tmp_path / "child-errors.txt"
    errors.unlink(missing_ok=True)
    child = forkserver(__name__).Process(target=_dispatch_until_done,
                                        args=(db_url, hook.url, crash_at, str(errors)))
    child.start()
    child.join(timeout=60)
    if child.exitcode is None:
        child.kill()
        pytest.fail(f"the dispatcher (crash at {crash_at}) did not finish within 60 s")
    assert child.exitcode in (0, -signal.SIGKILL), (
        errors.read_text(encoding="utf-8") if errors.exists() else child.exitcode)
    return child.exitcode


def _expected_ids(store: EventStore) -> set[str]:
    return {alert_id(e.event_id, "hook") for e in store.read_stream(SOURCE)
            if e.type == "ChangeDetected"}


def _edit(store: EventStore, n: int) -> None:
    append(store, SOURCE, change(f"Paragraph {n} said 100.", f"Paragraph {n} said {101 + n}."))


@pytest.mark.slow
def test_dispatcher_killed_at_every_point_still_delivers_each_alert_once(
    store, receiver, db_url: str, tmp_path: Path
) -> None:
    register(store)
    for n in range(5):
        _edit(store, n)
    rng = random.Random(20251211)
    kills: Counter[str] = Counter()

    for run in range(RUNS):
        _edit(store, 100 + 2 * run)  # new events keep arriving between crashes
        _edit(store, 101 + 2 * run)
        point = CRASH_POINTS[run % len(CRASH_POINTS)]
        code = _dispatch_in_child(db_url, receiver, f"{point}:{rng.randint(1, 2)}", tmp_path)
        if code:
            kills[point] += 1
            time.sleep(LEASE_SECONDS + 0.05)  # let a dead dispatcher's claim run out

    (tmp_path / "monitor.toml").write_text(
        f'[database]\nurl = "{db_url}"\n\n[[alerts]]\nname = "hook"\nkind = "webhook"\n'
        f'url = "{receiver.url}"\nsecret_env = "{SECRET_ENV}"\n', encoding="utf-8")
    final = monitor("alerts", "dispatch", cwd=tmp_path, env={SECRET_ENV: SECRET})
    assert final.code == 0, final.err

    assert sum(kills.values()) >= RUNS * 3 // 4, kills
    assert set(kills) == set(CRASH_POINTS), kills  # every crash point was really hit
    expected = _expected_ids(store)
    assert len(expected) == 5 + 2 * RUNS
    seen = Counter(receiver.ids())
    assert set(seen) == expected  # nothing lost, nothing invented
    # The only repeats: one per kill between a send and its record (the receiver drops them).
    assert sum(seen.values()) - len(seen) == kills["after_send"]
    assert receiver.rejected == 0
    assert [r.state for r in rows(store)] == ["delivered"] * len(expected)


def test_two_dispatchers_at_once_send_each_of_50_alerts_once(store, receiver, db_url) -> None:
    register(store)
    for n in range(50):
        _edit(store, n)
    receiver.delay = 0.005
    setup = config(webhook(receiver))
    stores = [open_store(db_url) for _ in range(2)]
    dispatchers = [Dispatcher(s, setup, lease=timedelta(minutes=5)) for s in stores]
    barrier = threading.Barrier(2)
    delivered = [0, 0]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            while (summary := dispatchers[i].run_once()).attempted:
                delivered[i] += summary.delivered
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.engine.dispose()

    assert not errors, errors
    assert sorted(receiver.ids()) == sorted(_expected_ids(store))
    assert len(receiver.ids()) == 50  # each alert once, no duplicate at all
    assert sum(delivered) == 50 and all(delivered), delivered  # both took part
    assert {r.state for r in rows(store)} == {"delivered"}
