"""The cluster's parts one by one: settings, per-host limits and spacing in Redis, the
scheduler lock in PostgreSQL, queued-check bookkeeping, and RabbitMQ as the broker.

Redis tests need MONITOR_TEST_REDIS_URL (CI: redis://127.0.0.1:6379/15) and write
only under a random namespace, deleted afterwards. The RabbitMQ test runs when
MONITOR_TEST_AMQP_URL is set (e.g. amqp://guest:guest@127.0.0.1:5672/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import child_environment
from conftest import fast_config

from monitor.cluster.settings import ClusterSettings, cluster_settings
from monitor.config import Config
from monitor.errors import ConfigError

REDIS_ENV = "MONITOR_TEST_REDIS_URL"
AMQP_ENV = "MONITOR_TEST_AMQP_URL"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"cluster tests need {REDIS_ENV} (CI sets redis://127.0.0.1:6379/15)")
    return url


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    import redis

    name = "t" + uuid.uuid4().hex[:10]
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def backend(redis_url: str) -> Iterator[Any]:
    from dramatiq.rate_limits.backends import RedisBackend

    b = RedisBackend(url=redis_url)
    yield b
    b.client.close()


def _config(cluster: dict[str, Any], path: Path | None = Path("/etc/monitor.toml")) -> Config:
    return replace(Config(path=path, database_url="sqlite://"), cluster=cluster)


# --- settings ------------------------------------------------------------------------
def test_cluster_settings_default_to_local_redis_and_the_fetch_limits() -> None:
    settings = cluster_settings(_config({}))
    assert settings.broker_url == settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.broker_kind == "redis"
    assert settings.max_concurrent_per_host == 2 and settings.min_delay_per_host == 1.0
    assert settings.checks_queue == "monitor.checks"


@pytest.mark.parametrize("table,key,words", [
    ({"broker_url": "http://x"}, "cluster.broker_url", "scheme"),
    ({"broker_url": "amqp://guest:guest@127.0.0.1/"}, "cluster.redis_url", "required"),
    ({"max_concurrent_per_host": 0}, "cluster.max_concurrent_per_host", ">= 1"),
    ({"min_delay_per_host": "soon"}, "cluster.min_delay_per_host", "not a duration"),
    ({"metrics_port": 70000}, "cluster.metrics_port", "port"),
    ({"namespace": "has space"}, "cluster.namespace", "letter"),
    ({"redeliver_after": "0s"}, "cluster.redeliver_after", "at least"),
    ({"brokr_url": "redis://x"}, "cluster.brokr_url", "unknown key"),
])
def test_a_bad_cluster_setting_names_the_file_and_the_key(
    table: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        cluster_settings(_config(table))
    assert str(caught.value).startswith(f"/etc/monitor.toml: {key}: ")
    assert words in str(caught.value)


def test_rabbitmq_is_chosen_by_the_amqp_scheme() -> None:
    settings = cluster_settings(_config({"broker_url": "amqp://guest:guest@127.0.0.1:5672/",
                                         "redis_url": "redis://127.0.0.1:6379/3"}))
    assert settings.broker_kind == "rabbitmq"
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_the_distributed_scheduler_refuses_sqlite(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("monitor")
    env = child_environment()
    done = subprocess.run([str(exe), "--database", f"sqlite:///{tmp_path / 'm.db'}", "run",
                           "--distributed"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 2
    assert "the cluster needs PostgreSQL" in done.stderr


# --- per-host politeness across processes ----------------------------------------------
def _politeness(backend: Any, namespace: str, **kw: Any) -> Any:
    from monitor.cluster.politeness import ClusterPoliteness

    options = {"limit": 2, "min_delay": 0.0, "lease_seconds": 5.0, **kw}
    return ClusterPoliteness(backend, namespace, **options)


def test_no_more_than_the_limit_hold_a_host_at_once(backend: Any, namespace: str) -> None:
    gates = [_politeness(backend, namespace) for _ in range(3)]  # as if three processes
    inside, most = 0, 0
    lock = threading.Lock()

    def request(gate: Any) -> None:
        nonlocal inside, most
        with gate.slot("example.org"):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=lambda g=g: [request(g) for _ in range(5)])
               for g in gates for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2


def test_request_starts_to_a_host_are_min_delay_apart(backend: Any, namespace: str) -> None:
    gates = [_politeness(backend, namespace, limit=4, min_delay=0.1) for _ in range(2)]
    starts: list[float] = []
    lock = threading.Lock()

    def request(gate: Any) -> None:
        with gate.slot("example.org"), lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=lambda g=g: [request(g) for _ in range(3)])
               for g in gates for _ in range(2)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Redis hands out start times 0.1 s apart; a thread may wake late from its turn
    # (a loaded machine), never early. So the gaps between measured starts can shrink
    # under load, but the k-th start can never come before k reserved turns have
    # passed: twelve starts span at least eleven delays, however busy the machine.
    starts.sort()
    assert len(starts) == 12
    assert all(start - began >= k * 0.1 - 0.01 for k, start in enumerate(starts))


def test_a_dead_holders_slot_frees_itself_after_its_lease(backend: Any, namespace: str) -> None:
    from monitor.cluster.politeness import HostSlots

    key = f"{namespace}:hosts:example.org:slots"
    dead = HostSlots(backend, key, limit=1, lease_ms=400)
    assert dead._acquire()  # taken and never released or renewed: its process died
    with HostSlots(backend, key, limit=1, lease_ms=400).acquire(raise_on_failure=False) as ok:
        assert not ok
    time.sleep(0.5)
    with HostSlots(backend, key, limit=1, lease_ms=400).acquire(raise_on_failure=False) as ok:
        assert ok


def test_a_live_holders_lease_is_renewed_while_it_works(backend: Any, namespace: str) -> None:
    from monitor.cluster.politeness import HostSlots, LeaseKeeper

    key = f"{namespace}:hosts:example.org:slots"
    keeper = LeaseKeeper(backend, lease_ms=300)
    try:
        with HostSlots(backend, key, limit=1, lease_ms=300, keeper=keeper).acquire() as ok:
            assert ok
            time.sleep(1.0)  # more than three leases
            other = HostSlots(backend, key, limit=1, lease_ms=300)
            with other.acquire(raise_on_failure=False) as taken:
                assert not taken
        with HostSlots(backend, key, limit=1, lease_ms=300).acquire(
                raise_on_failure=False) as taken:
            assert taken  # released at once when the holder is done
    finally:
        keeper.close()


# --- queued checks -----------------------------------------------------------------------
def test_a_source_is_queued_once_until_a_worker_has_checked_it(
    redis_url: str, namespace: str
) -> None:
    from monitor.cluster.state import ClusterState, redis_client

    state = ClusterState(redis_client(redis_url), namespace)
    assert state.mark_queued("a", 100.0, stale_after=600)
    assert not state.mark_queued("a", 105.0, stale_after=600)  # still waiting: not again
    assert state.oldest_queued() == ("a", 100.0)
    state.check_done("a", "unchanged")
    assert state.mark_queued("a", 110.0, stale_after=600)
    assert state.mark_queued("a", 800.0, stale_after=600)  # a lost message is sent anew
    assert state.queued() == 1
    # A scheduler taking over forgets the recent marks (one may be a send that never
    # happened); an older backlog stays marked
    assert state.mark_queued("old", 50.0, stale_after=600)
    assert state.forget_queued(since=700.0) == 1 and state.queued() == 1
    assert state.mark_queued("a", 801.0, stale_after=600)
    assert not state.mark_queued("old", 60.0, stale_after=600)
    state.client.close()


def test_the_cluster_due_times_are_claimed_once_set_due_again_and_kept_over_a_takeover(
    redis_url: str, namespace: str
) -> None:
    from monitor.cluster.state import ClusterState, redis_client

    state = ClusterState(redis_client(redis_url), namespace)
    due = state.due_times()
    due.schedule_many([("a", 60, 100.0), ("b", 60, 105.0), ("c", 3600, 500.0)])
    due.schedule_many([("a", 60, 1.0)])  # a takeover's reload keeps what was due when
    assert len(due) == 3 and due.next_at() == 100.0
    assert due.pop_due(now=110.0, limit=1) == [("a", 100.0)]
    assert due.due_at("a") == 160.0  # set due again in the same claim: its interval on
    assert due.pop_due(now=110.0, limit=10) == [("b", 105.0)]
    assert due.pop_due(now=110.0, limit=10) == []  # claimed once
    assert due.pop_due(now=400.0, limit=10) == [("a", 160.0), ("b", 165.0)]
    assert due.due_at("a") == due.due_at("b") == 460.0  # an interval behind: from now
    due.checked("c", 500.0, 3600, again_at=30.0)  # learning asked to come back sooner
    assert due.due_at("c") == 30.0
    due.discard("b")
    due.again("b", 1.0)  # a worker's again_at for a source removed meanwhile: ignored
    due.retain({"a"})
    assert len(due) == 1 and due.due_at("c") is None and due.due_at("b") is None
    state.client.close()


# --- the scheduler lock ------------------------------------------------------------------
def test_one_scheduler_holds_the_lock_and_a_standby_gets_it_when_it_goes(
    postgres_url: str,
) -> None:
    from monitor.cluster.scheduler import SchedulerLock, lock_key

    key = lock_key("t" + uuid.uuid4().hex)
    first, second = SchedulerLock(postgres_url, key), SchedulerLock(postgres_url, key)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.still_held()
        first.close()  # the server ends the session, and the lock, a moment later
        _wait(second.try_acquire, timeout=5)
    finally:
        first.close()
        second.close()


def test_a_scheduler_whose_lock_connection_drops_knows_it(postgres_url: str) -> None:
    import psycopg

    from monitor.cluster.scheduler import SchedulerLock, lock_key
    from monitor.cluster.settings import libpq_url

    lock = SchedulerLock(postgres_url, lock_key("t" + uuid.uuid4().hex))
    try:
        assert lock.try_acquire()
        pid = lock.conn.info.backend_pid
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert not lock.still_held()
    finally:
        lock.close()


# --- RabbitMQ ------------------------------------------------------------------------------
def test_a_check_travels_through_rabbitmq(
    redis_url: str, namespace: str, postgres_url: str, replica: Any
) -> None:
    amqp = os.environ.get(AMQP_ENV)
    if not amqp:
        pytest.skip(f"the RabbitMQ test needs {AMQP_ENV} (e.g. amqp://guest:guest@127.0.0.1:5672/)")
    import dramatiq

    from monitor.catalog import register
    from monitor.cluster.tasks import Cluster
    from monitor.config import SourceConfig
    from monitor.store import migrate, open_store
    from monitor.store.queries import list_changes

    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    url = replica.add_article("mfa", 42, title="T", paragraphs=["One."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
    config = fast_config(postgres_url)
    settings = ClusterSettings(broker_url=amqp, redis_url=redis_url, namespace=namespace,
                               min_delay_per_host=0.0)
    cluster = Cluster(config, settings)
    cluster.start_work()
    worker = dramatiq.Worker(cluster.broker, worker_threads=2)
    worker.start()
    try:
        cluster.send_check("doc")
        _wait(lambda: _checked(cluster, store, "doc"))
        replica.edit_article(42, "en", paragraphs=["One.", "Two."])
        assert cluster.send_check("doc")
        _wait(lambda: len(list_changes(store.engine, "doc")) == 1)
    finally:
        worker.stop(timeout=10_000)
        for queue in (settings.checks_queue, settings.alerts_queue):
            for suffix in ("", ".DQ", ".XQ"):
                cluster.broker.channel.queue_delete(queue + suffix)  # type: ignore[attr-defined]
        cluster.close()
        store.engine.dispose()


def _checked(cluster: Any, store: Any, source: str) -> bool:
    """The first check recorded its capture and ended: until its worker says so, a
    second send_check of the source is refused as already queued (the capture is
    visible a moment earlier, longer on a loaded machine)."""
    state = cluster.state
    return bool(store.stream_version(source) >= 2
                and state.client.zscore(state.key("pending"), source) is None)


def _wait(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("not within the time allowed")
        time.sleep(0.1)


# --- metrics and the worker supervisor ----------------------------------------------------
def test_a_workers_checks_show_in_its_prometheus_metrics(
    redis_url: str, namespace: str, postgres_url: str, replica: Any
) -> None:
    import urllib.request

    from monitor.catalog import register
    from monitor.cluster import metrics
    from monitor.cluster.tasks import Cluster
    from monitor.config import SourceConfig
    from monitor.store import migrate, open_store

    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    url = replica.add_article("mfa", 43, title="T", paragraphs=["One."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
    settings = ClusterSettings(broker_url=redis_url, redis_url=redis_url, namespace=namespace,
                               min_delay_per_host=0.0)
    cluster = Cluster(fast_config(postgres_url), settings)
    port = metrics.serve(0)
    before = _sample(port, 'monitor_checks_total{outcome="captured"}')
    try:
        cluster.start_work().check("doc", time.time() - 2)
    finally:
        cluster.close()
        store.engine.dispose()
    assert _sample(port, 'monitor_checks_total{outcome="captured"}') == before + 1
    assert _sample(port, "monitor_queue_lag_seconds_count") >= 1
    assert _sample(port, "monitor_fetch_seconds_count") >= 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    assert "monitor_alerts_delivered_total" in text and "monitor_host_wait_seconds" in text


def _sample(port: int, name: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def _worker_config(tmp_path: Path, postgres_url: str, redis_url: str, namespace: str,
                   port: int | None = None) -> Path:
    from monitor.store import migrate, open_store

    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    store.engine.dispose()
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "{postgres_url}"\n\n[cluster]\n'
                      f'broker_url = "{redis_url}"\nnamespace = "{namespace}"\n'
                      + (f"metrics_port = {port}\n" if port is not None else ""),
                      encoding="utf-8")
    return config


@contextmanager
def _supervised_workers(config: Path, redis_url: str, namespace: str,
                        processes: int) -> Iterator[tuple[subprocess.Popen[bytes], set[int]]]:
    """`monitor worker --processes N`, once all N have sent a heartbeat; the pids of
    the children. Whatever happens, no child outlives the test."""
    import json

    import redis

    exe = Path(sys.executable).with_name("monitor")
    env = child_environment()
    parent = subprocess.Popen([str(exe), "--config", str(config), "worker", "--processes",
                               str(processes), "--threads", "2"], env=env,
                              stderr=subprocess.DEVNULL)
    client = redis.Redis.from_url(redis_url)
    pattern = f"{namespace}:cluster:workers:*"
    pids: set[int] = set()
    try:
        _wait(lambda: len(list(client.scan_iter(match=pattern))) == processes, timeout=40)
        pids = {json.loads(v)["pid"] for v in client.mget(list(client.scan_iter(match=pattern)))}
        yield parent, pids
    finally:
        for pid in [parent.pid, *pids]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(timeout=10)
        client.close()


def test_worker_processes_beat_serve_summed_metrics_and_stop_on_sigterm(
    redis_url: str, namespace: str, postgres_url: str, tmp_path: Path
) -> None:
    import socket
    import urllib.request

    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _worker_config(tmp_path, postgres_url, redis_url, namespace, port)
    with _supervised_workers(config, redis_url, namespace, 2) as (parent, pids):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            summed = answer.read()
        assert b"monitor_queue_lag_seconds_count 0.0" in summed  # both children
        assert b'monitor_checks_total{outcome="changed"} 0.0' in summed  # from the start
        assert b"monitor_scheduler_active" not in summed  # a scheduler's, not a worker's
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
        assert not any(_alive(pid) for pid in pids)
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter(match=f"{namespace}:cluster:workers:*"))
    client.close()


def test_worker_processes_stop_when_their_supervisor_is_killed(
    redis_url: str, namespace: str, postgres_url: str, tmp_path: Path
) -> None:
    config = _worker_config(tmp_path, postgres_url, redis_url, namespace)
    with _supervised_workers(config, redis_url, namespace, 2) as (parent, pids):
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        _wait(lambda: not any(_alive(pid) for pid in pids), timeout=40)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- alert deliveries from the workers ------------------------------------------------------
def test_workers_deliver_each_alert_once_right_after_the_change(
    redis_url: str, namespace: str, postgres_url: str, replica: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dramatiq

    from monitor.catalog import register
    from monitor.cluster.tasks import Cluster
    from monitor.config import AlertConfig, SourceConfig
    from monitor.replica.webhook_sink import SECRET, WebhookReceiver
    from monitor.store import migrate, open_store
    from monitor.store.queries import list_changes

    monkeypatch.setenv("TEST_CLUSTER_WEBHOOK_SECRET", SECRET)
    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    url = replica.add_article("mfa", 44, title="T", paragraphs=["There were 3 of them."],
                              created_date="2026-03-03T10:00:00.000+05:00")
    register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
    with WebhookReceiver() as receiver:
        hook = AlertConfig("hook", "webhook", {"url": receiver.url, "timeout": "5s",
                                               "secret_env": "TEST_CLUSTER_WEBHOOK_SECRET"})
        config = replace(fast_config(postgres_url), alerts=(hook,))
        settings = ClusterSettings(broker_url=redis_url, redis_url=redis_url,
                                   namespace=namespace, min_delay_per_host=0.0)
        cluster = Cluster(config, settings)
        cluster.start_work()
        worker = dramatiq.Worker(cluster.broker, worker_threads=3)
        worker.start()
        try:
            cluster.send_check("doc")
            _wait(lambda: _checked(cluster, store, "doc"))
            replica.edit_article(44, "en", paragraphs=["There were 4 of them."])
            assert cluster.send_check("doc")
            _wait(lambda: len(list_changes(store.engine, "doc")) == 1)
            _wait(lambda: len(receiver.ids()) >= 1)  # the worker asked for a run at once
            for _ in range(3):  # as the scheduler's daemon does every few seconds
                cluster.send_alert_run()
                _wait(lambda: not cluster.state.client.exists(
                    cluster.state.key("alerts-queued")))
            time.sleep(0.5)
            assert len(receiver.ids()) == len(set(receiver.ids())) == 1
        finally:
            worker.stop(timeout=10_000)
            cluster.close()
            store.engine.dispose()
