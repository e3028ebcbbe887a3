"""The store's write lock under concurrent checks: how often a check takes it and how
long the threads wait at BEGIN IMMEDIATE.

    python -m bench.write_lock [--pages 400] [--threads 16]

NoisySite pages (bench.pages) in a fresh SQLite store, a first pass, then an unchanged
pass and a change pass (every page edited), each on `--threads` threads in this
process. Printed per pass: pages/s, the process's CPU ms per page, write transactions
per check and the time spent executing BEGIN IMMEDIATE, as a share of the threads'
time. A wait for the process's own writer lock (monitor.store.database) is not in that
share: it comes before BEGIN, and is the queue the threads form instead of polling.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.cpu_profile import _html_site, _register, _store


def main(argv: list[str] | None = None) -> None:
    from monitor.runner import build_checker

    parser = argparse.ArgumentParser(prog="python -m bench.write_lock")
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    pages, threads = args.pages, args.threads
    with tempfile.TemporaryDirectory() as tmp, _html_site(pages, 1.0) as (urls, edit):
        config, store = _store(Path(tmp))
        names = _register(store, urls, "html")
        checker = build_checker(config, store, learn_delay=0.05)
        with ThreadPoolExecutor(threads) as pool:
            first = Counter(r.outcome for r in pool.map(checker.check, names))
        print(f"first pass: {dict(first)}")
        waits = {"n": 0, "seconds": 0.0}
        lock, local = threading.Lock(), threading.local()

        @event.listens_for(store.engine, "before_cursor_execute")
        def _before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("BEGIN IMMEDIATE"):
                local.started = time.perf_counter()

        @event.listens_for(store.engine, "after_cursor_execute")
        def _after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("BEGIN IMMEDIATE"):
                with lock:
                    waits["n"] += 1
                    waits["seconds"] += time.perf_counter() - local.started

        for label in ("unchanged", "change"):
            if label == "change":
                edit()
            waits.update(n=0, seconds=0.0)
            started, cpu = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(threads) as pool:
                outcomes = Counter(r.outcome for r in pool.map(checker.check, names))
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"{label} pass: {dict(outcomes)} {pages / wall:.0f} pages/s, "
                  f"{cpu * 1000 / pages:.2f} ms CPU/page, {waits['n'] / pages:.2f} write "
                  f"transactions/check, waiting at BEGIN IMMEDIATE "
                  f"{waits['seconds'] / (wall * threads) * 100:.1f}% of the threads' time "
                  f"(load {load})")
        checker.fetcher.close()
        store.engine.dispose()


if __name__ == "__main__":
    main()
