"""`monitor status` on one machine: the daemon's heartbeat, each source's last check
and next due time, the failing and the late sources, in text and in JSON."""

from __future__ import annotations

import re
import socket
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import monitor
from daemon_helpers import source, start, wait_for, write_config
from http_faults import FaultServer, Reply

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.evidence.ledger import FAILED, UNCHANGED, Ledger
from monitor.heartbeat import Heartbeat, Vitals, read_beats
from monitor.status import gather
from monitor.store import open_store
from monitor.store.eventstore import utcnow

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PAGE = ("<html><head><title>Notice</title></head>"
        "<body><p>The office opens at nine.</p></body></html>")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(config: Path, *args: str) -> Any:
    done = monitor("--config", str(config), "status", *args, cwd=config.parent)
    assert done.code == 0, done.err
    return done.json() if "json" in args else done.out


def _metric(port: int, line_start: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(line_start + " "):
                return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.slow
def test_status_shows_the_running_daemon_its_checks_the_failing_source_and_its_end(
    tmp_path: Path
) -> None:
    """A running daemon, a page it checks and a dead port it fails on: status says when
    each was checked, when each is due, which fails and why; the daemon serves its
    metrics on the port given; killed with SIGKILL, it reads as not running at once.
    (SQLite only: the heartbeat's writes on both stores are the other tests'; test_daemon
    asserts a clean stop reads as stopped.)"""
    dead = f"http://127.0.0.1:{_free_port()}/"
    metrics_port = _free_port()
    with FaultServer() as server:
        server.route("/", Reply.page(PAGE))
        config = write_config(tmp_path, f"sqlite:///{tmp_path}/monitor.db",
                              source(server.url("/"), "page", "html", "2s"),
                              source(dead, "dead", "html", "2s"))
        daemon = start(config, args=("--metrics-port", str(metrics_port)))
        try:
            # Its series exist before the first check, at 0 (the scrape may race the
            # first checks: the failure counter is read only once they are done).
            wait_for(lambda: _try_metric(metrics_port, 'monitor_checks_total{outcome="changed"}')
                     == 0.0, 20, "the daemon's /metrics")
            assert _metric(metrics_port, 'monitor_changes_total{significance="high"}') == 0.0
            assert _metric(metrics_port, "monitor_scheduler_active") is None
            status = wait_for(lambda: _all_checked(config), 30, "both sources checked")
            assert (_metric(metrics_port, 'monitor_check_failures_total{kind="connection"}')
                    or 0) >= 1
            text = _status(config)
        finally:
            daemon.kill()
    (beat,) = status["daemons"]
    assert beat["running"] and beat["pid"] == daemon.process.pid
    assert beat["host"] == socket.gethostname() and beat["workers"] == 4
    assert status["daemon_running"] is True
    assert status["counts"] == {"sources": 2, "active": 1, "paused": 0, "failing": 1,
                                "gone": 0, "late": 0, "never_checked": 0}
    failing, page = status["sources"]  # the failing first
    assert failing["name"] == "dead" and failing["state"] == "failing"
    assert failing["last_outcome"] == "failed"
    assert failing["last_failure"].startswith("connection: ")
    assert page["name"] == "page" and page["last_outcome"] == "new version"
    assert page["last_failure"] is None and page["late"] is False
    for entry in (failing, page):
        checked = _moment(entry["last_checked"])
        assert _moment(entry["next_due"]) - checked == timedelta(seconds=2)
        assert abs(utcnow() - checked) < timedelta(seconds=60)
    for moment in (status["at"], beat["started_at"], beat["beat_at"], page["last_checked"]):
        assert ISO_Z.match(moment), moment

    assert re.search(rf"^daemon: running, pid {daemon.process.pid}@.*, since ", text, re.M)
    assert "1 failing" in text and "dead: failing since " in text
    assert "(1 failure recorded): " in text
    assert re.search(r"^page +active +\d s ago +new version +(in \d s|now)$", text, re.M), text
    text = _status(config)
    assert f"daemon: not running (pid {daemon.process.pid}@{socket.gethostname()} is gone" \
        in text, text


def _try_metric(port: int, name: str) -> float | None:
    try:
        return _metric(port, name)
    except OSError:
        return None


def _all_checked(config: Path) -> Any:
    status = _status(config, "--format", "json")
    return status if all(s["last_checked"] for s in status["sources"]) else None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def test_a_source_long_past_its_due_time_is_late_while_a_daemon_beats(run, db_url: str) -> None:
    """Checked an hour ago, every minute: late by about 59 minutes while a daemon beats;
    with no daemon it is overdue, not late: nothing schedules it."""
    store = open_store(db_url)
    try:
        now = utcnow()
        for name in ("stuck", "fine", "broken"):
            register(store, SourceConfig(name=name, url=f"https://example.org/{name}",
                                         kind="html", interval_seconds=60))
        ledger = Ledger(store.engine)
        ledger.record("stuck", now - timedelta(hours=1), 200, UNCHANGED, 1, None)
        ledger.record("fine", now - timedelta(seconds=10), 200, UNCHANGED, 1, None)
        ledger.record("broken", now - timedelta(seconds=100), 0, FAILED, None, None)
        quiet = gather(store.engine, now)
        assert not quiet.running and not any(s.late for s in quiet.sources)
        overdue = run("status")
        assert re.search(r"^stuck +active +60 min ago +unchanged +59 min overdue$",
                         overdue.out, re.M), overdue.out
        Heartbeat(store.engine, lambda: Vitals(4, 3, 1, 10, now)).beat()  # this process
        found = gather(store.engine, utcnow())
    finally:
        store.engine.dispose()
    assert [s.name for s in found.sources] == ["stuck", "broken", "fine"]  # late, then the rest
    stuck = found.sources[0]
    assert stuck.late and timedelta(minutes=58) < stuck.late_by < timedelta(minutes=60)
    # A minute and a half past due is within the allowance (2 min) of a 1 min interval.
    assert not found.sources[1].late
    assert found.counts["late"] == 1
    text = run("status")
    assert text.code == 0, text.err
    assert re.search(r"^stuck +active +60 min ago +unchanged +LATE by 5\d min$", text.out, re.M), \
        text.out
    assert re.search(r"^daemon: running, pid \d+@", text.out, re.M)
    assert "1 late" in text.out
    data = run("status", "--format", "json").json()
    assert data["counts"]["late"] == 1 and data["sources"][0]["late_seconds"] >= 58 * 60


def test_a_heartbeat_older_than_three_beats_means_not_running(run, db_url: str) -> None:
    """A daemon on another machine (its pid cannot be asked) that last beat three
    minutes ago is not running; a fresh beat from there is."""
    store = open_store(db_url)
    moments = iter([utcnow() - timedelta(minutes=m) for m in (5, 4, 3)])  # start, 2 beats
    try:
        old = Heartbeat(store.engine, lambda: Vitals(8, 0, 0, 0, None),
                        clock=lambda: next(moments))
        old.host, old.pid, old.daemon_id = "elsewhere", 4242, "elsewhere:4242"
        old.beat()
        old.beat()  # its row again, not a second one
        (beat,) = read_beats(store.engine)
        assert beat.beat_at - beat.started_at > timedelta(seconds=110)
        assert not gather(store.engine, utcnow()).running
        assert gather(store.engine, beat.beat_at + timedelta(seconds=20)).running  # fresh then
    finally:
        store.engine.dispose()
    text = run("status")
    assert text.code == 0, text.err
    assert "daemon: not running (pid 4242@elsewhere, last beat 3 min ago" in text.out, text.out
    assert "never checked" in text.out and "no sources" in text.out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_beat_from_the_future_is_not_taken_for_a_running_daemon(run, db_url: str) -> None:
    """Another machine's clock a year ahead: its beat cannot tell whether it runs, and
    status says why rather than "running … last beat in 364 d"."""
    store = open_store(db_url)
    ahead = utcnow() + timedelta(days=364)
    try:
        skewed = Heartbeat(store.engine, lambda: Vitals(8, 0, 0, 0, None), clock=lambda: ahead)
        skewed.host, skewed.pid, skewed.daemon_id = "elsewhere", 2**40, "elsewhere:big"
        skewed.beat()
        assert not gather(store.engine, utcnow()).running
    finally:
        store.engine.dispose()
    text = run("status")
    assert text.code == 0, text.err
    assert "daemon: cannot tell (pid 1099511627776@elsewhere: its last beat is 36" \
        in text.out and " d in the future" in text.out, text.out


def test_status_without_a_store_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/none.db"\n', encoding="utf-8")
    done = monitor("--config", str(config), "status", cwd=tmp_path)
    assert done.code != 0 and "Traceback" not in done.err
    assert done.err.count("\n") == 1 and "monitor init" in done.err
