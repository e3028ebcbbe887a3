"""Alerts survive crashes and concurrent dispatchers: every alert reaches the
receiver, and de-duplicating by webhook-id leaves exactly one of each.

The crash test runs the dispatcher in child processes that SIGKILL themselves
at a named point (MONITOR_TEST_CRASH_AT, see monitor.alerts.dispatcher.crash_point).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from cli_helpers import child_environment, monitor
from conftest import REPO
from test_alerts import SECRET_ENV, SOURCE, append, change, config, register, rows, webhook

from monitor.alerts import Dispatcher
from monitor.alerts.alert import alert_id
from monitor.alerts.dispatcher import CRASH_ENV, CRASH_POINTS
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore, open_store

LEASE_SECONDS = 0.1  # one child at a time: a short lease cannot let two send at once
RUNS = 20

CHILD = f"""
import sys
from datetime import timedelta
from monitor.alerts import Dispatcher
from monitor.config import AlertConfig, Config
from monitor.store import open_store

db_url, hook_url = sys.argv[1:3]
channel = AlertConfig("hook", "webhook", {{"url": hook_url, "secret_env": "{SECRET_ENV}",
                                           "timeout": "5s", "retry_base": "0s"}})
dispatcher = Dispatcher(open_store(db_url), Config(None, db_url, alerts=(channel,)),
                        lease=timedelta(seconds={LEASE_SECONDS}), batch=1)
while dispatcher.run_once().attempted:
    pass
"""


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _dispatch_in_child(db_url: str, hook: WebhookReceiver, crash_at: str | None) -> int:
    env = child_environment()
    env[SECRET_ENV] = SECRET
    if crash_at:
        env[CRASH_ENV] = crash_at
    proc = subprocess.run([sys.executable, "-c", CHILD, db_url, hook.url], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    return proc.returncode


def _expected_ids(store: EventStore) -> set[str]:
    return {alert_id(e.event_id, "hook") for e in store.read_stream(SOURCE)
            if e.type == "ChangeDetected"}


def _edit(store: EventStore, n: int) -> None:
    append(store, SOURCE, change(f"Paragraph {n} said 100.", f"Paragraph {n} said {101 + n}."))


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
        code = _dispatch_in_child(db_url, receiver, f"{point}:{rng.randint(1, 2)}")
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
