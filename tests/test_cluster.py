"""The cluster end to end: a scheduler, a standby and three worker processes over 300
gov.kz sources on the local replica (noise on), PostgreSQL and Redis.

Each real edit is recorded exactly once and noise never, whatever dies: a worker
killed with SIGKILL mid-round has its messages redelivered, a killed scheduler is
replaced by the standby without any source missing its interval by 30 s, a message
delivered twice records nothing twice, and the host never sees more requests at
once than max_concurrent_per_host.

Needs MONITOR_TEST_POSTGRES_URL and MONITOR_TEST_REDIS_URL (CI sets both); every
Redis key it writes is under a random namespace, deleted afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import child_environment, monitor
from conftest import postgres_base_url, postgres_schema_url

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.replica import GovkzReplica
from monitor.replica.server import Reply, Request

REDIS_ENV = "MONITOR_TEST_REDIS_URL"
SOURCES = 300
INTERVAL = 5  # seconds, every source
WORKERS = 3
THREADS = 4
HOST_LIMIT = 2
REDELIVER_AFTER = 3  # seconds without a heartbeat before a worker's messages move on
EDITS_PER_ROUND = 10
ROUND_TIMEOUT = 40.0
FIRST_ID = 5000
TWICE_ID = 4999  # the source the duplicate-message test uses; checked hourly

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


# --- the replica, timing each article's requests ---------------------------------
class TimedReplica(GovkzReplica):
    """The gov.kz replica, remembering when each article was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: dict[str, list[float]] = defaultdict(list)
        self._asked_lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        if "/content-manager/news/" in request.path:
            article = request.path.rstrip("/").rsplit("/", 1)[1]
            with self._asked_lock:
                self.asked[article].append(time.monotonic())
        return super().handle(request)

    def times(self, article_id: int) -> list[float]:
        with self._asked_lock:
            return list(self.asked.get(str(article_id), ()))


# --- the cluster under test ---------------------------------------------------------
@dataclass
class Cluster:
    workdir: Path
    config: Path
    database_url: str
    namespace: str
    redis: Any
    store: Any
    replica: TimedReplica
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    edits: Counter[str] = field(default_factory=Counter)  # source -> real edits made
    paragraphs: dict[str, list[str]] = field(default_factory=dict)

    # processes
    def start(self, label: str, *args: str) -> subprocess.Popen[bytes]:
        exe = Path(sys.executable).with_name("monitor")
        env = child_environment()
        log = (self.workdir / f"{label}.log").open("ab")
        process = subprocess.Popen([str(exe), "--config", str(self.config), *args],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        self.processes[label] = process
        return process

    def start_worker(self, label: str) -> subprocess.Popen[bytes]:
        return self.start(label, "worker", "--threads", str(THREADS))

    def kill(self, label: str) -> None:
        process = self.processes.pop(label)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for label, process in self.processes.items():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                pytest.fail(f"{label} did not stop within 40 s of SIGTERM")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.workdir.glob("*.log")))

    # redis
    def key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def scheduler_pid(self) -> int | None:
        value = self.redis.get(self.key("cluster:scheduler"))
        return json.loads(value)["pid"] if value else None

    def workers(self) -> list[dict[str, Any]]:
        keys = list(self.redis.scan_iter(match=self.key("cluster:workers:*")))
        return [json.loads(v) for v in self.redis.mget(keys) if v] if keys else []

    # the log
    def changes(self) -> Counter[str]:
        from sqlalchemy import text

        with self.store.engine.connect() as conn:
            rows = conn.execute(text("SELECT stream_id, count(*) FROM events "
                                     "WHERE type = 'ChangeDetected' GROUP BY stream_id"))
            return Counter({stream: int(n) for stream, n in rows})

    def captured(self) -> int:
        from sqlalchemy import text

        with self.store.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(DISTINCT stream_id) FROM events "
                                         "WHERE type = 'VersionCaptured'")).scalar())

    # edits
    def edit(self, index: int) -> None:
        name = source_name(index)
        self.edits[name] += 1
        self.paragraphs[name].append(f"Addendum {self.edits[name]}: {uuid.uuid4().hex[:8]}.")
        self.replica.edit_article(FIRST_ID + index, "en", paragraphs=self.paragraphs[name])

    def edit_round(self, rng: random.Random) -> list[str]:
        """Edit a few sources, none whose last edit is still unrecorded: two edits seen
        by one check are one change."""
        seen = self.changes()
        settled = [i for i in range(SOURCES) if seen[source_name(i)] == self.edits[source_name(i)]]
        picked = rng.sample(settled, EDITS_PER_ROUND)
        for index in picked:
            self.edit(index)
        return [source_name(i) for i in picked]

    def wait_recorded(self, timeout: float = ROUND_TIMEOUT) -> None:
        """Until every edit made so far shows as a ChangeDetected."""
        def all_seen() -> bool:
            seen = self.changes()
            return all(seen[name] >= count for name, count in self.edits.items())

        wait_for(all_seen, timeout,
                 lambda: f"edits not all recorded: {self.missing()}\n{self.logs()}")

    def missing(self) -> dict[str, Any]:
        seen = self.changes()
        now = time.monotonic()
        pending = self.key("cluster:pending")
        return {n: {"edits": k, "recorded": seen[n],
                    "queued_since": self.redis.zscore(pending, n),
                    "asked_ago": [round(now - t, 1) for t in
                                  self.replica.times(FIRST_ID + int(n[1:]))][-4:]}
                for n, k in self.edits.items() if seen[n] != k}

    def assert_each_edit_recorded_once(self) -> None:
        seen = self.changes()
        assert {n: k for n, k in seen.items() if n != "twice"} == dict(self.edits), \
            f"recorded != edited: {self.missing()}; unedited sources changed: " \
            f"{ {n: k for n, k in seen.items() if n not in self.edits and n != 'twice'} }"


def source_name(index: int) -> str:
    return f"s{index:03d}"


def wait_for(probe: Callable[[], Any], timeout: float, explain: Callable[[], str],
             every: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"not within {timeout:.0f}s: {explain()}")


@pytest.fixture(scope="module")
def redis_base() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"cluster tests need {REDIS_ENV} (CI sets redis://127.0.0.1:6379/15)")
    return url


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests need MONITOR_TEST_POSTGRES_URL (CI sets it)")
    yield from postgres_schema_url(base)


@pytest.fixture(scope="module")
def cluster(redis_base: str, module_postgres_url: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import redis

    from monitor.store import migrate, open_store

    workdir = tmp_path_factory.mktemp("cluster")
    namespace = "t" + uuid.uuid4().hex[:10]
    client = redis.Redis.from_url(redis_base)
    store = open_store(module_postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    config = workdir / "monitor.toml"
    config.write_text(f"""
[database]
url = "{module_postgres_url}"

[defaults]
workers = {THREADS}

[fetch]
timeout = "5s"
connect_timeout = "2s"
retries = 1
backoff = "50ms"
max_concurrent_per_host = {HOST_LIMIT}
min_delay_per_host = "0s"

[cluster]
broker_url = "{redis_base}"
namespace = "{namespace}"
max_concurrent_per_host = {HOST_LIMIT}
min_delay_per_host = "0s"
redeliver_after = "{REDELIVER_AFTER}s"
time_limit = "60s"
""", encoding="utf-8")
    with TimedReplica() as replica:
        state = Cluster(workdir, config, module_postgres_url, namespace, client, store, replica)
        for index in range(SOURCES):
            name = source_name(index)
            state.paragraphs[name] = [f"Statement {index} of the ministry.",
                                      f"On {index % 28 + 1} March {40 + index} delegates met."]
            url = replica.add_article("mfa", FIRST_ID + index, title=f"Release {index}",
                                      paragraphs=state.paragraphs[name],
                                      created_date="2026-03-03T10:00:00.000+05:00")
            register(store, SourceConfig(name=name, url=url, kind="govkz",
                                         interval_seconds=INTERVAL))
        url = replica.add_article("mfa", TWICE_ID, title="Twice", paragraphs=["Once."],
                                  created_date="2026-03-03T10:00:00.000+05:00")
        register(store, SourceConfig(name="twice", url=url, kind="govkz", interval_seconds=3600))
        replica.reset_stats()
        try:
            state.start("scheduler-a", "run", "--distributed")
            wait_for(lambda: state.scheduler_pid() == state.processes["scheduler-a"].pid, 20,
                     state.logs)
            state.start("scheduler-b", "run", "--distributed")
            for n in range(WORKERS):
                state.start_worker(f"worker-{n}")
            wait_for(lambda: state.captured() == SOURCES + 1, 60,
                     lambda: f"{state.captured()} of {SOURCES + 1} captured\n{state.logs()}")
            yield state
            state.stop_all()
        finally:
            for process in state.processes.values():
                if process.poll() is None:
                    process.kill()
            keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
            store.engine.dispose()


# --- the tests ----------------------------------------------------------------------
def test_each_real_edit_is_recorded_once_and_noise_never(cluster: Cluster) -> None:
    rng = random.Random(1)
    for _ in range(3):
        cluster.edit_round(rng)
        cluster.wait_recorded()
    time.sleep(INTERVAL + 2)  # one more check of everything: nothing new may appear
    cluster.assert_each_edit_recorded_once()


def test_status_shows_the_scheduler_the_workers_and_the_rate(cluster: Cluster) -> None:
    # In this process (cli_helpers.monitor): the status is what is tested, not a start.
    done = monitor("--config", str(cluster.config), "status", "--format", "json",
                   cwd=cluster.workdir)
    assert done.code == 0, done.err
    status = done.json()
    assert status["scheduler"]["pid"] == cluster.processes["scheduler-a"].pid
    assert len(status["workers"]) == WORKERS
    assert status["checks_queue"]["dead"] == 0
    assert status["failing_count"] == 0
    assert set(status) >= {"checks_queue", "minutes", "oldest_due", "failing"}
    moments = [status["at"], status["scheduler"]["since"], status["scheduler"]["seen"],
               *(w["seen"] for w in status["workers"]), *(m["minute"] for m in status["minutes"])]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", m) for m in moments), moments
    text = monitor("--config", str(cluster.config), "status", cwd=cluster.workdir)
    assert text.code == 0 and f"workers seen in the last minute: {WORKERS}" in text.out


def test_a_worker_killed_mid_round_has_its_messages_redelivered(cluster: Cluster) -> None:
    rng = random.Random(2)
    cluster.edit_round(rng)
    cluster.replica.set_delay(0.05)  # a slow host: every worker holds a backlog

    def a_worker_holding_messages() -> tuple[dict[str, Any], set[bytes]] | None:
        for worker in cluster.workers():
            held = cluster.redis.smembers(cluster.key(
                f"__acks__.{worker['broker_id']}.{cluster.namespace}.checks"))
            if held:
                return worker, held
        return None

    victim, held = wait_for(a_worker_holding_messages, 20,
                            lambda: "no worker ever held a message\n" + cluster.logs())
    label = next(k for k, p in cluster.processes.items() if p.pid == victim["pid"])
    cluster.kill(label)  # SIGKILL: no requeue, no goodbye; its messages stay unacknowledged
    killed_at = time.monotonic()
    cluster.replica.set_delay(0)
    cluster.edit_round(rng)
    messages = cluster.key(f"{cluster.namespace}.checks.msgs")
    wait_for(lambda: not any(cluster.redis.hexists(messages, m) for m in held), 45,
             lambda: "the dead worker's messages were not processed by the others\n"
             + cluster.logs())
    redelivered_after = time.monotonic() - killed_at
    cluster.wait_recorded()
    cluster.assert_each_edit_recorded_once()
    cluster.start_worker(f"{label}-again")
    print(f"{len(held)} messages of the killed worker done {redelivered_after:.1f}s after")
    assert len(held) >= 1 and redelivered_after < 45


def test_the_standby_scheduler_takes_over_and_no_source_misses_its_interval(
    cluster: Cluster,
) -> None:
    rng = random.Random(3)
    active = cluster.processes["scheduler-a"].pid
    assert cluster.scheduler_pid() == active
    cluster.edit_round(rng)
    killed_at = time.monotonic()
    cluster.kill("scheduler-a")
    standby = cluster.processes["scheduler-b"].pid
    wait_for(lambda: cluster.scheduler_pid() == standby, 15, cluster.logs)
    took_over_at = time.monotonic()
    took_over = took_over_at - killed_at
    cluster.edit_round(rng)

    def unchecked_since_the_takeover() -> list[int]:
        # Twice: a source is queued once at a time, so the second check of each is one
        # the new scheduler asked for, whatever the old one had queued before it died.
        return [index for index in range(SOURCES)
                if len([t for t in cluster.replica.times(FIRST_ID + index)
                        if t > took_over_at]) < 2]

    wait_for(lambda: not unchecked_since_the_takeover(), 2 * INTERVAL + 30,
             lambda: f"sources not checked twice under the new scheduler: "
                     f"{unchecked_since_the_takeover()[:20]}\n{cluster.logs()}")
    cluster.wait_recorded()
    window_end = time.monotonic()
    worst = 0.0
    for index in range(SOURCES):
        times = [*cluster.replica.times(FIRST_ID + index), window_end]
        gaps = [b - a for a, b in itertools.pairwise(times) if b > killed_at]
        worst = max(worst, *gaps)
    print(f"standby took over {took_over:.1f}s after the kill; longest gap {worst:.1f}s")
    assert took_over < 15
    assert worst < INTERVAL + 30, f"a source went {worst:.1f}s without a check"
    cluster.assert_each_edit_recorded_once()


def test_the_same_message_delivered_twice_records_the_change_once(cluster: Cluster) -> None:
    from monitor.cluster.settings import cluster_settings
    from monitor.cluster.tasks import Cluster as Queue
    from monitor.config import load_config

    config = load_config(str(cluster.config))
    queue = Queue(config, cluster_settings(config))
    try:
        cluster.replica.edit_article(TWICE_ID, "en", paragraphs=["Once.", "Twice."])
        asked_before = len(cluster.replica.times(TWICE_ID))
        message = queue.check.message("twice", time.time())
        queue.broker.enqueue(message)
        queue.broker.enqueue(message)  # the very same message (same id), delivered again
        wait_for(lambda: len(cluster.replica.times(TWICE_ID)) >= asked_before + 2, 20,
                 lambda: "the two deliveries were not both checked\n" + cluster.logs())
        wait_for(lambda: cluster.changes()["twice"] >= 1, 10, cluster.logs)
        time.sleep(1)
        assert cluster.changes()["twice"] == 1
    finally:
        queue.close()


def test_the_host_never_sees_more_requests_at_once_than_the_limit(cluster: Cluster) -> None:
    seen = cluster.replica.max_in_flight_by_host
    assert seen, "no request reached the replica"
    # Three workers with several threads each would go far past the limit without it;
    # reaching it exactly depends on load, so only the ceiling is asserted here (the
    # limiter's own tests show it admits `limit` holders at once).
    assert 1 <= max(seen.values()) <= HOST_LIMIT, f"in flight per host: {seen}"
