"""Prometheus metrics per process: `--metrics-port` lets a scheduler and a worker share a
host, a worker does not export the scheduler's gauges, labelled counters have every
known series from the start, and a taken port is one clear line.

The cluster test needs MONITOR_TEST_POSTGRES_URL and MONITOR_TEST_REDIS_URL; its Redis
keys are under a random namespace, deleted afterwards.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import child_environment, monitor
from test_cluster_parts import redis_url  # noqa: F401  (fixture)

from monitor.check import CHECK_OUTCOMES
from monitor.errors import FETCH_FAILURE_KINDS

MONITOR_PACKAGE = Path(__file__).resolve().parent.parent / "monitor"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int, timeout: float = 30.0) -> str:
    """/metrics on `port`, once it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
                return page.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _value(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def cluster_config(tmp_path: Path, postgres_url: str,
                   redis_url: str) -> Iterator[Path]:  # noqa: F811  (the fixture)
    """A cluster's monitor.toml whose [cluster] metrics_port is one port for all."""
    import redis

    from monitor.store import migrate, open_store

    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    store.engine.dispose()
    namespace = "t" + uuid.uuid4().hex[:10]
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "{postgres_url}"\n[web]\nenabled = false\n'
                      f'[cluster]\nbroker_url = "{redis_url}"\nnamespace = "{namespace}"\n'
                      f"metrics_port = {_free_port()}\n", encoding="utf-8")
    yield config
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _start(config: Path, *args: str) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("monitor")
    return subprocess.Popen([str(exe), "--config", str(config), *args], env=child_environment(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.postgres
def test_a_scheduler_and_a_worker_on_one_host_each_serve_their_own_metrics(
    cluster_config: Path
) -> None:
    """Each takes the port its --metrics-port gives (over the config's one port, which
    would make the second die); only the scheduler exports the scheduler's gauges;
    the worker's labelled counters are there before any check."""
    scheduler_port, worker_port = _free_port(), _free_port()
    scheduler = _start(cluster_config, "run", "--distributed", "--metrics-port",
                       str(scheduler_port))
    worker = _start(cluster_config, "worker", "--threads", "1", "--metrics-port",
                    str(worker_port))
    try:
        from_worker = _scrape(worker_port)
        deadline = time.monotonic() + 30
        while not _both_at_work(cluster_config):  # and their signal handlers in place
            assert time.monotonic() < deadline, "the scheduler or the worker never started"
            time.sleep(0.2)
        from_scheduler = _scrape(scheduler_port)
        assert _value(from_scheduler, "monitor_scheduler_active") == 1.0
    finally:
        for process in (scheduler, worker):
            process.terminate()
        codes = [process.wait(timeout=40) for process in (scheduler, worker)]
    assert codes == [0, 0], [p.stderr.read().decode()[-2000:] for p in (scheduler, worker)
                             if p.stderr]
    assert _value(from_scheduler, "monitor_queue_depth") is not None
    assert "monitor_scheduler_active" not in from_worker
    assert "monitor_queue_depth" not in from_worker
    assert _value(from_worker, 'monitor_checks_total{outcome="changed"}') == 0.0
    assert _value(from_worker, 'monitor_check_failures_total{kind="timeout"}') == 0.0
    assert _value(from_worker, 'monitor_changes_total{significance="medium"}') == 0.0


def _both_at_work(config: Path) -> bool:
    """`monitor status` of the cluster sees the active scheduler and one worker (and,
    [cluster] or not, the per-source part)."""
    done = monitor("--config", str(config), "status", "--format", "json", cwd=config.parent)
    assert done.code == 0, done.err
    status = done.json()
    assert status["sources"] == [] and status["source_counts"]["sources"] == 0
    return status["scheduler"] is not None and len(status["workers"]) == 1


def test_a_taken_metrics_port_is_one_line_naming_it_and_the_option(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/monitor.db"\n'
                      "[web]\nenabled = false\n", encoding="utf-8")
    assert monitor("--config", str(config), "init", cwd=tmp_path).code == 0
    with socket.socket() as taken:
        taken.bind(("", 0))  # where the metrics server binds: every address
        taken.listen()
        port = taken.getsockname()[1]
        done = monitor("--config", str(config), "run", "--metrics-port", str(port),
                       cwd=tmp_path)
    assert done.code == 2, done.err
    assert done.err == (f"error: metrics port {port} is in use (another process serves "
                        "it?): give this process its own with --metrics-port PORT\n")
    bad = monitor("--config", str(config), "run", "--metrics-port", "70000", cwd=tmp_path)
    assert bad.code == 2 and "--metrics-port" in bad.err and "Traceback" not in bad.err


@pytest.mark.postgres
def test_a_worker_on_a_taken_metrics_port_says_so_and_exits_2(cluster_config: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # One worker in this process; the parent of two in its own (it would make this
        # process's metrics multiprocess ones: PROMETHEUS_MULTIPROC_DIR).
        for processes in ("1", "2"):
            done = monitor("--config", str(cluster_config), "worker", "--processes", processes,
                           "--metrics-port", str(port), cwd=cluster_config.parent,
                           own_process=processes != "1", timeout=60)
            assert done.code == 2, done.err
            assert done.err.splitlines() == [
                f"error: metrics port {port} is in use (another process serves it?): give "
                "this process its own with --metrics-port PORT"], done.err


def test_every_failure_kind_and_outcome_in_the_code_has_its_series() -> None:
    """The series made at the start (monitor.cluster.metrics) come from these lists: a
    kind or an outcome the code can produce must be in them."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in MONITOR_PACKAGE.rglob("*.py"))
    kinds = set(re.findall(r'FetchFailed\(\s*"(\w+)"', code))
    assert kinds and kinds <= set(FETCH_FAILURE_KINDS), kinds - set(FETCH_FAILURE_KINDS)
    outcomes = set(re.findall(r'CheckResult\(\s*[\w.]+,\s*"(\w+)"', code))
    outcomes |= set(re.findall(r'outcome="(\w+)"', code))
    assert outcomes and outcomes <= set(CHECK_OUTCOMES), outcomes - set(CHECK_OUTCOMES)
