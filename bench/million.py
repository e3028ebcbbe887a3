"""A million sources at a 1-hour interval, simulated: the cluster scheduler's lag.

What is real: the PostgreSQL store (a database of its own, `bench_million_<N>_<rev>`,
kept between runs) with N registered sources; the scheduler, `monitor run
--distributed` in a process of its own, as an operator starts it (its due times in
the Redis sorted set, monitor.cluster.state.DueSet); the Dramatiq queue on Redis; the
workers' `Work.check` (monitor.cluster.tasks) with the real Checker, which reads the
source's row and writes its check-ledger row. What is not: the page. The workers'
fetcher answers every GET with a 304 from memory (no HTTP), so each check is an
unchanged one, the steady state of a watched page.

Steady state, not a cold start: before the scheduler starts, every source is given a
due time spread evenly over the next hour in the Redis set, as a scheduler that has
run for an hour leaves it (the scheduler keeps a due time it finds there). So N/3600
checks fall due each second: 278/s at a million.

Measured per check, for the checks that fell due inside the window after a warm-up:
due -> sent (the message's enqueue time minus its due time) and due -> checked (the
end of the check minus its due time), p50 / p99 / max; the scheduler's peak memory;
how long it took to load the catalog. Verdict: p99 of due -> checked under 5 s.

    python -m bench.million [--sources 100000] [--seconds 60] [--processes 2]
    python -m bench.million --sources 1000000 --seconds 120

The store is filled fast and kept: each SourceRegistered is the row EventStore.append
writes (bench/web_history.py's stream: the same hash chain), and its `sources` row
the one `projections.apply` makes from it (applied for real to one source in 500 and
compared field by field with the rest, which are made from that template), all
written with COPY. Filling a million takes a few minutes, once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import text

from bench.web_fill import _restart_sequences
from bench.web_history import _Stream
from bench.web_project import project
from monitor.events import SourceRegistered
from monitor.store import migrate
from monitor.store.database import WRITE, open_engine

POSTGRES = os.environ.get("MONITOR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/")
REDIS = os.environ.get("MONITOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
INTERVAL = 3600
LAG_TARGET_S = 5.0
CHUNK = 20_000
SAMPLE_EVERY = 500  # one source in this many is projected for real and compared
WORKER_THREADS = 8
WARMUP_S = 15.0  # checks due before this (after the scheduler's start) are not counted


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- the store -----------------------------------------------------------------------------
def _name(i: int) -> str:
    return f"sim-{i:07d}"


def _chunk(first: int, count: int, start: float) -> tuple[list[tuple[Any, ...]], ...]:
    """COPY rows (events, streams, sources) for sources first .. first+count."""
    rng = random.Random(first)
    registered = datetime.fromtimestamp(start, UTC).replace(tzinfo=None)
    events, streams, sources = [], [], []
    template: dict[str, Any] | None = None
    for i in range(first, first + count):
        name = _name(i)
        stream = _Stream(name, rng)
        stream.append(registered + timedelta(microseconds=i), [SourceRegistered(
            name=name, url=f"http://sim.invalid/{i}", kind="html",
            interval_seconds=INTERVAL)])
        e = stream.steps[0].events[0]
        e["position"] = i + 1
        events.append((e["position"], e["event_id"], e["stream_id"], e["version"], e["type"],
                       e["schema_version"], json.dumps(e["data"]), e["recorded_at"],
                       e["prev_hash"], e["hash"]))
        streams.append((name, 1, e["hash"]))
        if template is None or i % SAMPLE_EVERY == 0:
            (real,) = project([[e]])["sources"]
            if template is not None and real != _from_template(template, e):
                raise AssertionError(f"the templated sources row of {name} differs from "
                                     "what projections.apply makes")
            template = real
        sources.append(tuple(_from_template(template, e).values()))
    return events, streams, sources


def _from_template(template: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
    return {**template, "stream_id": e["stream_id"], "name": e["stream_id"],
            "url": e["data"]["url"], "registered_at": e["recorded_at"],
            "last_event_position": e["position"]}


def database_name(count: int) -> str:
    return f"bench_million_{count}_{migrate.head_revision() or 'none'}"


def fill(count: int) -> str:
    """The URL of a PostgreSQL database holding `count` registered sources."""
    name = database_name(count)
    admin = open_engine(POSTGRES + "postgres")
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if exists:
                url = POSTGRES + name
                if _count(url) == count:
                    log(f"million: reusing database {name}")
                    return url
                conn.execute(text(f'DROP DATABASE "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = POSTGRES + name
    started = time.monotonic()
    engine = open_engine(url)
    try:
        migrate.upgrade(engine)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                jobs = [pool.submit(_chunk, first, min(CHUNK, count - first), time.time())
                        for first in range(0, count, CHUNK)]
                columns = _columns()
                for job in jobs:
                    events, streams, sources = job.result()
                    _copy(cursor, "events", columns["events"], events)
                    _copy(cursor, "streams", columns["streams"], streams)
                    _copy(cursor, "sources", columns["sources"], sources)
            raw.commit()
        finally:
            raw.close()
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            _restart_sequences(conn)
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    log(f"million: filled {name} with {count:,} sources in {time.monotonic() - started:.0f} s")
    return url


def _columns() -> dict[str, list[str]]:
    from monitor.store.schema import sources

    return {"events": ["position", "event_id", "stream_id", "version", "type",
                       "schema_version", "data", "recorded_at", "prev_hash", "hash"],
            "streams": ["stream_id", "version", "head_hash"],
            "sources": [c.name for c in sources.columns]}


def _copy(cursor: Any, table: str, columns: Sequence[str],
          rows: Sequence[tuple[Any, ...]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, (list, dict)) else v for v in row])


def _count(url: str) -> int:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM sources")).scalar() or 0)
    except Exception:
        return -1
    finally:
        engine.dispose()


# --- the workers ---------------------------------------------------------------------------
def _worker(config_path: str, stop: str, out: str, threads: int) -> None:
    """One worker process: the real Work, a fetcher answering 304 from memory."""
    import dramatiq
    from dramatiq.middleware import CurrentMessage

    from monitor.cluster.settings import cluster_settings
    from monitor.cluster.tasks import Cluster
    from monitor.config import load_config
    from monitor.fetch import Fetcher, Response

    class NotModifiedFetcher(Fetcher):
        def get(self, url: str, **_: Any) -> Response:  # type: ignore[override]
            return Response(url, 304, {"ETag": '"same"'}, b"", "text/html")

    config = load_config(config_path)
    cluster = Cluster(config, cluster_settings(config))
    cluster.broker.add_middleware(CurrentMessage())
    work = cluster.start_work(learn=False)
    work.checker.fetcher = NotModifiedFetcher()
    records: list[tuple[float, float, float, str]] = []
    real_check = work.check

    def timed(source: str, due_at: float) -> Any:
        message = CurrentMessage.get_current_message()
        sent = message.message_timestamp / 1000 if message is not None else float("nan")
        result = real_check(source, due_at)
        records.append((due_at, sent, time.time(), result.outcome))
        return result

    work.check = timed  # type: ignore[method-assign]
    worker = dramatiq.Worker(cluster.broker, queues={cluster.settings.checks_queue},
                             worker_threads=threads)
    worker.start()
    Path(out + ".ready").write_text("ready", encoding="utf-8")
    while not Path(stop).exists():
        time.sleep(0.2)
    worker.stop(timeout=5000)
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(out).write_text(json.dumps({"records": records,
                                     "cpu": usage.ru_utime + usage.ru_stime}),
                         encoding="utf-8")
    cluster.close()


# --- the run ---------------------------------------------------------------------------------
def simulate(count: int, seconds: float, processes: int) -> dict[str, Any]:
    from monitor.cluster.state import ClusterState

    url = fill(count)
    namespace = "sim" + uuid.uuid4().hex[:8]
    client = redis.Redis.from_url(REDIS)
    state = ClusterState(client, namespace)
    with tempfile.TemporaryDirectory(prefix="million-") as scratch:
        work = Path(scratch)
        config = work / "monitor.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n[defaults]\nworkers = 8\n'
            f'[web]\nenabled = false\n'
            f'[cluster]\nbroker_url = "{REDIS}"\nnamespace = "{namespace}"\n'
            'max_concurrent_per_host = 64\nmin_delay_per_host = "0s"\n', encoding="utf-8")
        ctx = multiprocessing.get_context("spawn")
        outs = [work / f"worker-{k}.json" for k in range(processes)]
        stop = work / "stop"
        workers = [ctx.Process(target=_worker, args=(str(config), str(stop), str(out),
                                                     WORKER_THREADS))
                   for out in outs]
        for w in workers:
            w.start()
        _wait_ready(outs)  # the workers consume before the scheduler sends
        # An hour of steady state: due times spread evenly over the hour from about
        # when the scheduler starts (seeding goes at some 15,000 a second).
        started_at = time.time() + 3.0 + count / 30_000
        rng = random.Random(7)
        due_times = [started_at + rng.uniform(0, INTERVAL) for _ in range(count)]
        seeded = time.monotonic()
        state.due_times().schedule_many(
            (_name(i), INTERVAL, due_times[i]) for i in range(count))
        seed_seconds = time.monotonic() - seeded
        load_before = _loadavg()
        scheduler_log = work / "scheduler.log"
        monitor = Path(sys.executable).with_name("monitor")
        with open(scheduler_log, "wb") as err:
            launched = time.time()
            scheduler = subprocess.Popen(
                [str(monitor), "--config", str(config), "run", "--distributed"],
                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ})
            peak = 0.0
            loaded_after: float | None = None
            deadline = time.monotonic() + seconds + WARMUP_S
            while time.monotonic() < deadline and scheduler.poll() is None:
                peak = max(peak, _hwm_mb(scheduler.pid))
                if loaded_after is None and "daemon started" in scheduler_log.read_text(
                        "utf-8", "replace"):
                    loaded_after = time.time() - launched
                time.sleep(0.5)
            peak = max(peak, _hwm_mb(scheduler.pid))
            scheduler_cpu = _cpu_seconds(scheduler.pid)
            load_after = _loadavg()
            scheduler.send_signal(signal.SIGTERM)
            try:
                scheduler.wait(30)
            except subprocess.TimeoutExpired:
                scheduler.kill()
        time.sleep(3)  # the last messages sent are checked
        stop.write_text("stop", encoding="utf-8")
        for w in workers:
            w.join(timeout=60)
        results = [json.loads(out.read_text(encoding="utf-8")) for out in outs if out.exists()]
        records = [tuple(r) for result in results for r in result["records"]]
        worker_cpu = sum(result["cpu"] for result in results)
        text_log = scheduler_log.read_text("utf-8", "replace")
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    loaded_at = launched + loaded_after if loaded_after is not None else None
    window = [r for r in records if launched + WARMUP_S <= r[0] <= launched + WARMUP_S + seconds]
    startup = [r for r in records if r[0] < launched + WARMUP_S]
    loaded = re.search(r"daemon started sources=(\d+)", text_log)
    return {
        "sources": count, "seconds": seconds, "processes": processes,
        "seed_seconds": round(seed_seconds, 1),
        "checks_in_window": len(window),
        "expected_in_window": sum(launched + WARMUP_S <= t <= launched + WARMUP_S + seconds
                                  for t in due_times),
        # the rate over the part of the window in which checks fell due (the due times
        # start `started_at`, a few seconds after the scheduler, so not the whole window)
        "rate": round(len(window) / max(1.0, launched + WARMUP_S + seconds
                                        - max(launched + WARMUP_S, started_at)), 1),
        "sent": _stats([r[1] - r[0] for r in window]),
        "checked": _stats([r[2] - r[0] for r in window]),
        "checked_loading": _stats([r[2] - r[0] for r in window if loaded_at is not None
                                   and r[0] < loaded_at]),
        "checked_after": _stats([r[2] - r[0] for r in window if loaded_at is not None
                                 and r[0] >= loaded_at]),
        # due before the scheduler started: counted from its start (a takeover's lag)
        "startup_checked": _stats([r[2] - max(r[0], launched) for r in startup]),
        "outcomes": _outcomes(window),
        "scheduler_peak_mb": round(peak, 1),
        "catalog_loaded_s": round(loaded_after, 1) if loaded_after is not None else None,
        "sent_total": len(records),
        "scheduler_cpu_ms_per_send": round(1000 * scheduler_cpu / max(1, len(records)), 2),
        "worker_cpu_ms_per_check": round(1000 * worker_cpu / max(1, len(records)), 2),
        "scheduler_loaded": bool(loaded),
        "loadavg": f"{load_before} -> {load_after}",
    }


def _wait_ready(outs: Sequence[Path], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(out.with_name(out.name + ".ready").exists() for out in outs):
            return
        time.sleep(0.2)
    raise SystemExit("million: the worker processes did not start within 2 minutes")


def _stats(values: list[float]) -> dict[str, float]:
    values = sorted(v for v in values if v == v)
    if not values:
        return {"n": 0}
    q = (statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1
         else [values[0]] * 99)
    return {"n": len(values), "p50": round(q[49], 3), "p99": round(q[98], 3),
            "max": round(values[-1], 3)}


def _outcomes(records: list[tuple[Any, ...]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[r[3]] = counts.get(r[3], 0) + 1
    return counts


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (/proc/PID/stat, clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hwm_mb(pid: int) -> float:
    try:
        found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0
    return int(found.group(1)) / 1024 if found else 0.0


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(f: dict[str, Any]) -> list[str]:
    checked = f["checked"]
    ok = checked.get("n", 0) > 0 and checked["p99"] < LAG_TARGET_S and \
        f["checks_in_window"] >= 0.9 * f["expected_in_window"]

    def fmt(s: dict[str, float]) -> str:
        return (f"p50 {s['p50']:.2f} s, p99 {s['p99']:.2f} s, max {s['max']:.2f} s "
                f"(n={s['n']})") if s.get("n") else "no checks"

    return [
        f"million: {f['sources']:,} sources at a 1-hour interval, {f['processes']} worker "
        f"processes x {WORKER_THREADS} threads, {f['seconds']:.0f} s window after a "
        f"{WARMUP_S:.0f} s warm-up; load average {f['loadavg']}",
        f"  checks in the window {f['checks_in_window']:,} of the {f['expected_in_window']:,} "
        f"due in it "
        f"({f['rate']}/s while checks fell due); outcomes {f['outcomes']}",
        f"  due -> sent:    {fmt(f['sent'])}",
        f"  due -> checked: {fmt(f['checked'])}",
        f"    of which due while the scheduler read the catalog: {fmt(f['checked_loading'])}",
        f"    of which due after it had read it: {fmt(f['checked_after'])}",
        f"  during the warm-up (the scheduler loading the catalog): due (or the start) "
        f"-> checked "
        f"{fmt(f['startup_checked'])}",
        f"  scheduler peak memory {f['scheduler_peak_mb']} MB; catalog read in "
        f"{f['catalog_loaded_s']} s (checks sent meanwhile); due set seeded in "
        f"{f['seed_seconds']} s",
        f"  CPU per check over the run ({f['sent_total']:,} checks): scheduler "
        f"{f['scheduler_cpu_ms_per_send']} ms (its catalog read included), workers "
        f"{f['worker_cpu_ms_per_check']} ms (PostgreSQL and Redis not counted)",
        f"  lag under {LAG_TARGET_S:.0f} s (p99 due -> checked, every due check done): "
        f"{'PASS' if ok else 'MISS'}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.million", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.sources < 1 or args.seconds <= 0 or args.processes < 1:
        parser.error("--sources, --seconds and --processes must be positive")
    figures = simulate(args.sources, args.seconds, args.processes)
    for line in report(figures):
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
