"""`monitor run` with 100,000 sources: its peak memory and how soon it checks.

A SQLite store with N gov.kz sources registered (default 100,000) is filled fast: each
SourceRegistered is the row EventStore.append writes (bench/web_history.py's stream:
the same hash chain), its `sources` row made by the real `projections.apply`
(bench/web_project.py), one INSERT per table and batch. The store is cached under
bench/.work/hundred_k/, keyed by the size and the schema's revision; a sample of it
goes through `monitor verify`'s checks (bench/web_fill.verify_sample).

Then `monitor run` starts against the local gov.kz replica (every source's article is
on it), as a user starts it, and the bench reads:
- peak memory: the daemon process's VmHWM (/proc) after it ran `--seconds`;
- time to the first check: from the process's start to the first `check source=`
  line of its log.

    python -m bench.hundred_k [--sources 100000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.web_fill import verify_sample
from bench.web_history import _Stream
from bench.web_project import project
from monitor.events import SourceRegistered
from monitor.store import migrate
from monitor.store.database import WRITE, open_engine
from monitor.store.schema import PROJECTION_TABLES, events, streams

WORK = Path(__file__).resolve().parent / ".work" / "hundred_k"
MEMORY_TARGET_MB = 250.0
FIRST_CHECK_TARGET_S = 5.0
ENTITY = "mfa"
FIRST_ID = 2_000_000
INTERVAL = 3600
CHUNK = 5000
BATCH = 2000


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def names(count: int) -> list[str]:
    return [f"doc-{FIRST_ID + i}" for i in range(count)]


def _chunk_rows(first: int, count: int, base_url: str, start: float) -> tuple[list[Any], Any]:
    """Events and projection rows of sources first .. first+count (in a worker)."""
    import random

    rng = random.Random(first)
    rows: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    registered = datetime.fromtimestamp(start, UTC).replace(tzinfo=None)
    for i in range(first, first + count):
        name = f"doc-{FIRST_ID + i}"
        stream = _Stream(name, rng)
        stream.append(registered + timedelta(milliseconds=i), [SourceRegistered(
            name=name, url=_url(base_url, FIRST_ID + i), kind="govkz",
            interval_seconds=INTERVAL)])
        event = stream.steps[0].events[0]
        event["position"] = i + 1
        rows.append(event)
        heads.append({"stream_id": name, "version": 1, "head_hash": event["hash"]})
    projected = project([[r] for r in rows])
    return rows, (heads, projected)


def _url(base_url: str, article_id: int) -> str:
    return f"{base_url}/memleket/entities/{ENTITY}/press/news/details/{article_id}?lang=en"


def store_path(count: int) -> Path:
    return WORK / f"sources-{count}-{migrate.head_revision() or 'none'}.db"


# The replica's address is part of every URL: the store is made for a fixed port.
PORT = 38411


def fill(count: int) -> Path:
    """The cached store of `count` registered sources (made first if there is none)."""
    path = store_path(count)
    if path.exists():
        log(f"hundred_k: reusing {path}")
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in WORK.glob(partial.name + "*"):
        leftover.unlink()
    started = time.monotonic()
    engine = open_engine(f"sqlite:///{partial}")
    base_url = f"http://127.0.0.1:{PORT}"
    try:
        migrate.upgrade(engine)
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool, \
                engine.connect().execution_options(**WRITE) as conn, conn.begin():
            jobs = [pool.submit(_chunk_rows, first, min(CHUNK, count - first), base_url,
                                time.time() - 86400) for first in range(0, count, CHUNK)]
            for job in jobs:
                rows, (heads, projected) = job.result()
                _insert(conn, events, rows)
                _insert(conn, streams, heads)
                for table in PROJECTION_TABLES:
                    _insert(conn, table, projected.get(table.name, []))
        verify_sample(engine, sample_streams_of(count), log)
    finally:
        engine.dispose()
    os.replace(partial, path)
    log(f"hundred_k: filled {count} sources in {time.monotonic() - started:.0f} s "
        f"({path.stat().st_size / 1e6:.0f} MB)")
    return path


def sample_streams_of(count: int) -> list[str]:
    every = names(count)
    step = max(1, count // 200)
    return every[::step]


def _insert(conn: Any, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), list(rows[i:i + BATCH]))


def measure(count: int, seconds: float, workers: int = 8) -> dict[str, Any]:
    from monitor.replica import GovkzReplica

    filled = fill(count)
    with tempfile.TemporaryDirectory(prefix="hundred-k-") as scratch, \
            GovkzReplica(port=PORT, noise=False, challenge=None) as replica:
        for i in range(count):
            replica.add_article(ENTITY, FIRST_ID + i, title=f"Press release {i}",
                                paragraphs=[f"Release number {i}.", "Findings follow."],
                                created_date="2026-03-03T10:00:00.000+05:00")
        work = Path(scratch)
        db = work / "monitor.db"
        with open(filled, "rb") as src, open(db, "wb") as dst:  # the run writes to a copy
            while block := src.read(1 << 22):
                dst.write(block)
        config = work / "monitor.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{db}"\n[defaults]\nworkers = {workers}\n'
            '[fetch]\nmin_delay_per_host = "0s"\nmax_concurrent_per_host = 8\n'
            'allow_private_networks = true\n[web]\nenabled = false\n', encoding="utf-8")
        monitor = Path(sys.executable).with_name("monitor")
        env = {**os.environ, "MONITOR_ALLOW_PRIVATE_NETWORKS": "1"}
        stderr = work / "daemon.log"
        load = _loadavg()
        with open(stderr, "wb") as out:
            started = time.monotonic()
            daemon = subprocess.Popen([str(monitor), "--config", str(config), "run"],
                                      stdout=subprocess.DEVNULL, stderr=out, env=env)
            first_check: float | None = None
            peak = 0.0
            try:
                while time.monotonic() - started < seconds:
                    peak = max(peak, _hwm_mb(daemon.pid))
                    if first_check is None and "check source=" in stderr.read_text("utf-8",
                                                                                   "replace"):
                        first_check = time.monotonic() - started
                    if daemon.poll() is not None:
                        break
                    time.sleep(0.1)
                peak = max(peak, _hwm_mb(daemon.pid))
            finally:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
        text = stderr.read_text("utf-8", "replace")
        checks = len(re.findall(r" check source=", text))
        started_line = re.search(r"daemon started sources=(\d+)", text)
    return {"sources": count, "scheduled": int(started_line.group(1)) if started_line else 0,
            "peak_rss_mb": round(peak, 1),
            "first_check_s": round(first_check, 2) if first_check is not None else None,
            "checks": checks, "seconds": seconds, "loadavg": load,
            "exit": daemon.returncode}


def _hwm_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else 0.0


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(figures: dict[str, Any]) -> list[str]:
    memory_ok = figures["peak_rss_mb"] < MEMORY_TARGET_MB
    first = figures["first_check_s"]
    first_ok = first is not None and first <= FIRST_CHECK_TARGET_S
    return [
        f"hundred_k: `monitor run` with {figures['sources']:,} sources "
        f"({figures['scheduled']:,} scheduled), load average {figures['loadavg']}",
        f"  peak memory {figures['peak_rss_mb']} MB (target < {MEMORY_TARGET_MB:.0f} MB): "
        f"{'PASS' if memory_ok else 'MISS'}",
        f"  first check {first if first is not None else 'none'} s after start (target "
        f"<= {FIRST_CHECK_TARGET_S:.0f} s): {'PASS' if first_ok else 'MISS'}",
        f"  {figures['checks']} checks in {figures['seconds']:.0f} s; exit {figures['exit']}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hundred_k", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.sources < 1:
        parser.error("--sources must be at least 1")
    for line in report(measure(args.sources, args.seconds)):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
