"""The first pass over new sources, whose noise is learned first (issue 13, item 3).

Learning a page loads it, waits `learn_delay` (3 s), and loads it twice more. A pass
that waits inside the check holds a worker asleep for those 3 s, so new sources are
learned at workers / 3 s at best. A pass that comes back instead (Checker.learn_later,
runner.Revisits) is limited by the per-host politeness only. This runs both over the
same new sources, on noisy replica sites on loopback addresses 127.0.0.2… (one host
each), with the product's defaults: 8 workers, 1 s between requests to a host, 2 at
once, learning's pause 3 s. It prints each pass's seconds beside the two bounds:
workers asleep (sources x 3 s / workers) and politeness (the busiest host's requests,
4 a source, one a second).

    python -m bench.learn_pass [--sources 200] [--hosts 50]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from monitor.catalog import register
from monitor.config import Config, FetchConfig, SourceConfig
from monitor.replica import NoisySite
from monitor.runner import build_checker, run_pass
from monitor.sources.html import DEFAULT_LEARN_DELAY
from monitor.store import migrate, open_store

WORKERS = 8
LOADS_PER_SOURCE = 4  # three to learn, one to capture


def one_pass(sites: list[tuple[str, NoisySite]], sources: int, learn_later: bool,
             work: Path) -> float:
    url = f"sqlite:///{work / ('later' if learn_later else 'asleep')}.db"
    store = open_store(url, check_schema=False)
    migrate.upgrade(store.engine)
    names = []
    for n in range(sources):
        host, site = sites[n % len(sites)]
        page = n // len(sites) + 1
        name = f"page-{n}"
        url_of_page = f"http://{host}:{site.port}/page/{page}"  # base_url says 127.0.0.1
        register(store, SourceConfig(name=name, url=url_of_page, kind="html",
                                     interval_seconds=3600))
        names.append(name)
    config = Config(path=None, database_url=url,
                    fetch=replace(FetchConfig(), allow_private_networks=True))
    checker = build_checker(config, store, learn_later=learn_later)
    started = time.perf_counter()
    try:
        summary = run_pass(checker, names, WORKERS)
    finally:
        checker.fetcher.close()
        store.engine.dispose()
    seconds = time.perf_counter() - started
    outcomes = dict(summary.counts)
    if outcomes != {"captured": sources}:
        raise RuntimeError(f"the pass ended {outcomes}, not {sources} captured: "
                           f"{summary.results[0].detail}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sources", type=int, default=200)
    p.add_argument("--hosts", type=int, default=50)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="learn-pass-"))
    per_host = -(-args.sources // args.hosts)
    try:
        with ExitStack() as stack:
            hosts = [f"127.0.0.{2 + i}" for i in range(args.hosts)]
            sites = [(host, stack.enter_context(NoisySite(pages=per_host, host=host, seed=i)))
                     for i, host in enumerate(hosts)]
            asleep = one_pass(sites, args.sources, False, work)
            later = one_pass(sites, args.sources, True, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sleep_bound = args.sources * DEFAULT_LEARN_DELAY / WORKERS
    polite_bound = per_host * LOADS_PER_SOURCE * FetchConfig().min_delay_per_host
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"first pass over {args.sources} new sources on {args.hosts} hosts, {WORKERS} "
          f"workers: learning asleep {asleep:.1f} s (bound {sleep_bound:.0f} s), learning "
          f"come back {later:.1f} s (politeness bound {polite_bound:.0f} s): "
          f"{asleep / later:.1f}x faster (load {load})")
    # issue 13: new sources learned as fast as the per-host limits allow (a quarter over
    # the politeness bound allowed for the pass's own start and end)
    fast = later <= 1.25 * polite_bound
    print(f"  learned as fast as the per-host limits allow (<= {1.25 * polite_bound:.0f} s): "
          f"{'PASS' if fast else 'MISS'} ({later:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
