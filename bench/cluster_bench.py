"""Cluster throughput and the sizes bench/SCALING.md rests on.

Over 2,000 gov.kz sources on the local replica (noise on), all already captured, so
every check is a steady-state one (fetch, parse, compare, nothing to write):

- single process: `monitor check --all` (8 threads), the figure to beat;
- cluster: `monitor worker --processes N` (8 threads each) for N = 1, 2, 4, fed by
  a burst of 2,000 check messages; timed from the first message sent to the last
  one acknowledged;
- sizes: PostgreSQL bytes per source registered, per first capture and per change;
  Redis bytes per queued check; the scheduler's memory and time per source.

The per-host limits are lifted (every page is on one host, 127.0.0.1) so that the
machinery is measured, not politeness; SCALING.md does the politeness arithmetic.

    python -m bench.cluster_bench [--sources 2000] [--processes 1,2,4] [--json FILE]

Needs PostgreSQL and Redis: $MONITOR_TEST_POSTGRES_URL and $MONITOR_TEST_REDIS_URL,
else postgresql://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379/15. It
works in a schema and a Redis namespace of its own and removes both at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.pg import postgres_schema

POSTGRES = os.environ.get("MONITOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("MONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
THREADS = 8
HOST_LIMIT = 64  # per-host limits lifted: the machinery is measured, not politeness
FIRST_ID = 700_000
EDITED_SHARE = 10  # one source in ten is edited for the bytes-per-change figure
SCHEDULER_JOBS = 20_000


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--processes", default="1,2,4",
                        help="worker process counts to measure, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    missing = unreachable()
    if missing:
        print(f"cluster bench skipped: {missing}")
        return {}
    figures = run_bench(args.sources, counts)
    print_figures(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


def unreachable() -> str | None:
    """Why PostgreSQL or Redis cannot be used, or None when both answer."""
    import psycopg
    import redis

    try:
        with psycopg.connect(POSTGRES.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES} does not answer ({str(exc).strip().splitlines()[0]})"
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS} does not answer ({exc})"
    finally:
        client.close()
    return None


def run_bench(sources: int, process_counts: Sequence[int]) -> dict[str, Any]:
    from monitor.replica import GovkzReplica

    figures: dict[str, Any] = {"sources": sources, "threads_per_process": THREADS,
                               "cpus": os.cpu_count()}
    with postgres_schema(POSTGRES) as database_url, _namespace() as namespace, \
            tempfile.TemporaryDirectory(prefix="cluster-bench-") as work, \
            GovkzReplica() as replica:
        bench = _Bench(Path(work), database_url, namespace, replica, sources)
        figures["postgres"] = bench.prepare()
        figures["single_process"] = bench.single_process()
        figures["postgres"].update(bench.bytes_per_change())
        figures["redis"] = bench.redis_bytes_per_queued_check()
        figures["cluster"] = [bench.cluster(n) for n in process_counts]
        figures["postgres"].update(bench.append_rate())  # last: it marks sources failing
        figures["scheduler"] = scheduler_cost(SCHEDULER_JOBS)
    return figures


class _Bench:
    def __init__(self, work: Path, database_url: str, namespace: str, replica: Any,
                 sources: int) -> None:
        self.work = work
        self.database_url = database_url
        self.namespace = namespace
        self.replica = replica
        self.sources = sources
        self.config = work / "monitor.toml"
        self.names = [f"b{i:05d}" for i in range(sources)]

    # --- setup and the single process --------------------------------------------------
    def prepare(self) -> dict[str, Any]:
        from monitor.catalog import register
        from monitor.config import SourceConfig
        from monitor.store import migrate, open_store

        self.config.write_text(
            f'[database]\nurl = "{self.database_url}"\n\n[defaults]\nworkers = {THREADS}\n\n'
            f'[fetch]\nmax_concurrent_per_host = {HOST_LIMIT}\nmin_delay_per_host = "0s"\n'
            "allow_private_networks = true  # the pages are served on loopback\n\n"
            f'[cluster]\nbroker_url = "{REDIS}"\nnamespace = "{self.namespace}"\n'
            f'max_concurrent_per_host = {HOST_LIMIT}\nmin_delay_per_host = "0s"\n',
            encoding="utf-8")
        store = open_store(self.database_url, check_schema=False)
        migrate.upgrade(store.engine)
        empty = _table_bytes(store.engine)
        started = time.perf_counter()
        for index, name in enumerate(self.names):
            url = self.replica.add_article(
                "mfa", FIRST_ID + index, title=f"Press release {index}",
                paragraphs=_paragraphs(index), created_date="2026-03-03T10:00:00.000+05:00")
            register(store, SourceConfig(name=name, url=url, kind="govkz", interval_seconds=3600))
        registered_seconds = time.perf_counter() - started
        registered = _table_bytes(store.engine)
        first = self._check_all()  # each source's first version
        captured = _table_bytes(store.engine)
        store.engine.dispose()
        return {
            "register_per_second": round(self.sources / registered_seconds, 1),
            "bytes_per_source_registered": round((registered - empty) / self.sources),
            "bytes_per_first_capture": round((captured - registered) / self.sources),
            "first_capture_checks_per_second": round(self.sources / first["seconds"], 1),
        }

    def single_process(self) -> dict[str, Any]:
        runs = [self._check_all() for _ in range(2)]
        for run in runs:
            if run["counts"] != {"unchanged": self.sources}:
                raise RuntimeError(f"a steady-state pass should find {self.sources} "
                                   f"unchanged sources, it found {run['counts']}")
        best = min(runs, key=lambda r: r["seconds"])
        startup = self._startup_cpu()
        return {"threads": THREADS, "seconds": round(best["seconds"], 2),
                "checks_per_second": round(self.sources / best["seconds"], 1),
                "wall_seconds_with_startup": round(best["wall"], 2),
                "cpu_ms_per_check": round((best["cpu"] - startup) * 1000 / self.sources, 2)}

    def _startup_cpu(self) -> float:
        """CPU seconds of a `monitor` process that imports everything and checks nothing."""
        before = os.times()
        subprocess.run([*self._monitor(), "check", "--all", "--workers", "1", "--format",
                        "json", "--database", "postgresql://nobody@127.0.0.1:1/none"],
                       capture_output=True, check=False)
        after = os.times()
        return (after.children_user - before.children_user
                + after.children_system - before.children_system)

    def bytes_per_change(self) -> dict[str, Any]:
        from monitor.store import open_store

        store = open_store(self.database_url)
        before = _table_bytes(store.engine)
        edited = range(0, self.sources, EDITED_SHARE)
        for index in edited:
            self.replica.edit_article(FIRST_ID + index, "en",
                                      paragraphs=[*_paragraphs(index), "One sentence added."])
        result = self._check_all()
        after = _table_bytes(store.engine)
        store.engine.dispose()
        if result["counts"].get("changed") != len(edited):
            raise RuntimeError(f"expected {len(edited)} changes, got {result['counts']}")
        return {"bytes_per_change": round((after - before) / len(edited)),
                "rows_per_change": "2 events (VersionCaptured, ChangeDetected), 1-2 blobs "
                                   "(text, raw), 1 versions row, 1 changes row"}

    def append_rate(self, threads: int = THREADS) -> dict[str, Any]:
        """Appends per second from several threads (one small event each, as a failed
        check writes): the ceiling of the log's write rate, which appends in one order."""
        from concurrent.futures import ThreadPoolExecutor

        from monitor.events import FetchFailedEvent
        from monitor.store import open_store

        store = open_store(self.database_url)
        names = self.names[: min(len(self.names), 100 * threads)]

        def append(name: str) -> None:
            store.append(name, store.stream_version(name),
                         [FetchFailedEvent(kind="timeout", message="bench", status=None)])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(append, names))
        seconds = time.perf_counter() - started
        store.engine.dispose()
        return {"appends_per_second": round(len(names) / seconds, 1),
                "append_threads": threads}

    def _check_all(self) -> dict[str, Any]:
        before = os.times()
        started = time.perf_counter()
        done = subprocess.run([*self._monitor(), "check", "--all", "--workers", str(THREADS),
                               "--format", "json"], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = os.times()
        if done.returncode != 0:
            raise RuntimeError(f"monitor check --all failed:\n{done.stderr[-2000:]}")
        summary = json.loads(done.stdout)
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        return {"seconds": summary["seconds"], "counts": summary["counts"], "wall": wall,
                "cpu": cpu}

    # --- the cluster ---------------------------------------------------------------------
    def redis_bytes_per_queued_check(self) -> dict[str, Any]:
        cluster = self._cluster()
        try:
            client = cluster.state.client
            before = int(client.info("memory")["used_memory"])
            started = time.perf_counter()
            for name in self.names:
                cluster.send_check(name)
            send_seconds = time.perf_counter() - started
            after = int(client.info("memory")["used_memory"])
            cluster.broker.flush(cluster.settings.checks_queue)
            client.delete(cluster.state.key("pending"))
        finally:
            cluster.close()
        return {"bytes_per_queued_check": round((after - before) / self.sources),
                "sends_per_second_one_thread": round(self.sources / send_seconds)}

    def cluster(self, processes: int) -> dict[str, Any]:
        cluster = self._cluster()
        client = cluster.state.client
        messages = f"{self.namespace}:{cluster.settings.checks_queue}.msgs"
        log = (self.work / f"worker-{processes}.log").open("wb")
        worker = subprocess.Popen([*self._monitor(), "worker", "--processes", str(processes),
                                   "--threads", str(THREADS), "--log-level", "warning"],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: len(cluster.state.workers()) == processes, 60,
                  f"{processes} worker processes did not start")
            pids = [w["pid"] for w in cluster.state.workers()]
            redis_pid = [int(client.info("server")["process_id"])]  # if Redis runs here
            rounds, cpu, redis_cpu = [], [], []
            for _ in range(2):
                counted = _minute_total(cluster)
                cpu_before, redis_before = _process_cpu(pids), _process_cpu(redis_pid)
                started = time.perf_counter()
                for name in self.names:
                    cluster.send_check(name)
                _wait(lambda: client.hlen(messages) == 0, 600, "the queue did not drain")
                seconds = time.perf_counter() - started
                rounds.append(seconds)
                cpu.append(_process_cpu(pids) - cpu_before)
                redis_cpu.append(_process_cpu(redis_pid) - redis_before)
                done = _minute_total(cluster) - counted
                if done < self.sources:
                    raise RuntimeError(f"only {done} of {self.sources} checks were counted")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
            log.close()
            cluster.close()
        best = min(rounds)
        return {"processes": processes, "threads_each": THREADS,
                "seconds": [round(r, 2) for r in rounds],
                "checks_per_second": round(self.sources / best, 1),
                "worker_cpu_ms_per_check": round(min(cpu) * 1000 / self.sources, 2),
                "redis_cpu_ms_per_check": round(min(redis_cpu) * 1000 / self.sources, 3)}

    def _cluster(self) -> Any:
        from monitor.cluster.settings import cluster_settings
        from monitor.cluster.tasks import Cluster
        from monitor.config import load_config

        config = load_config(str(self.config))
        return Cluster(config, cluster_settings(config))

    def _monitor(self) -> list[str]:
        return [str(Path(sys.executable).with_name("monitor")), "--config", str(self.config)]


def scheduler_cost(jobs: int) -> dict[str, Any]:
    """Time and memory the daemon's scheduler (monitor.due.DueHeap, one heap entry per
    source; before issue 13 an APScheduler job each, 1,137 B and 138 us) needs per
    source: what a daemon pays for every source before it checks anything."""
    from monitor.due import DueHeap

    def load(count: int) -> tuple[float, DueHeap]:
        heap = DueHeap()
        started = time.perf_counter()
        heap.schedule_many((f"b{index:07d}", 3600, 1e9 + index) for index in range(count))
        return time.perf_counter() - started, heap

    seconds, _heap = load(jobs)
    sample = jobs // 4  # tracemalloc slows allocation ~5x: memory on a smaller load
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    _, _heap = load(sample)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return {"jobs": jobs, "add_jobs_per_second": round(jobs / seconds),
            "bytes_per_source": round(grown / sample)}


def print_figures(f: dict[str, Any]) -> None:
    single = f["single_process"]
    print(f"cluster bench: {f['sources']} gov.kz sources on the local replica, "
          f"{f['cpus']} CPUs, steady-state checks (nothing changed)")
    print(f"  single process  monitor check --all, {single['threads']} threads: "
          f"{single['checks_per_second']:7.1f} checks/s  "
          f"({single['cpu_ms_per_check']} ms CPU per check)")
    for c in f["cluster"]:
        print(f"  cluster         {c['processes']} worker process(es) x {c['threads_each']} "
              f"threads: {c['checks_per_second']:7.1f} checks/s  "
              f"({c['worker_cpu_ms_per_check']} ms worker CPU, "
              f"{c['redis_cpu_ms_per_check']} ms Redis CPU per check; rounds "
              f"{', '.join(f'{s:.1f}s' for s in c['seconds'])})")
    pg, rd, sc = f["postgres"], f["redis"], f["scheduler"]
    print(f"  first capture   {pg['first_capture_checks_per_second']:7.1f} checks/s (single "
          "process, every check appends)")
    print(f"  appends         {pg['appends_per_second']:7.1f} per second ({pg['append_threads']} "
          "threads, one small event each)")
    print(f"  postgres        {pg['bytes_per_source_registered']} B per source registered, "
          f"{pg['bytes_per_first_capture']} B per first capture, "
          f"{pg['bytes_per_change']} B per change")
    print(f"  redis           {rd['bytes_per_queued_check']} B per queued check, "
          f"{rd['sends_per_second_one_thread']} sends/s from one thread")
    print(f"  scheduler       {sc['bytes_per_source']} B and "
          f"{1e6 / sc['add_jobs_per_second']:.1f} us per source (due heap entry)")


def _paragraphs(index: int) -> list[str]:
    return [f"The ministry held meeting number {index} on cooperation.",
            f"On {index % 28 + 1} March {40 + index % 500} delegates from "
            f"{index % 60 + 2} countries took part.",
            "The parties agreed to continue the dialogue."]


def _table_bytes(engine: Any) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar())


def _process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of running processes (Linux /proc), 0 for any gone."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _minute_total(cluster: Any) -> int:
    return sum(sum(counts.values()) for _, counts in cluster.state.minutes(10, time.time() + 60))


def _wait(condition: Any, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{failure} within {timeout:.0f}s")
        time.sleep(0.05)


@contextmanager
def _namespace() -> Iterator[str]:
    import redis

    namespace = "bench" + uuid.uuid4().hex[:8]
    try:
        yield namespace
    finally:
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
