"""One bench scenario: N pages, every watcher, the same passes, interleaved.

1. prepare: each watcher gets an empty store and all N URLs (not timed);
2. first pass: each records every page's first version (timed, reported apart);
3. K unchanged passes: nothing but noise moves (timed: pages/s, CPU, store growth);
4. the planned edits are made on the site;
5. one change pass: what each watcher reports is scored against the edits.

Within each step the watchers take turns, in an order that rotates from pass to pass,
so neither always runs on a warmer machine.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.pages import BenchSite
from bench.tools import PassResult, Watcher
from monitor.replica.noisy_site import NoisySite

PROBE_DELAY = 0.25  # seconds the server waits before each answer in the probe


@dataclass
class Observed:
    """One pass of one watcher, with what the server and the disk saw."""

    result: PassResult
    store_after: int
    max_in_flight: int
    server_cpu: float
    tables: dict[str, int] = field(default_factory=dict)  # bytes per table, if known


@dataclass
class WatcherRun:
    watcher: Watcher
    store_empty: int = 0
    first: Observed | None = None
    unchanged: list[Observed] = field(default_factory=list)
    change: Observed | None = None

    @property
    def passes(self) -> list[Observed]:
        """Every pass, in order."""
        return [o for o in (self.first, *self.unchanged, self.change) if o is not None]


@dataclass
class Scenario:
    pages: int
    passes: int
    concurrency: int
    edits: tuple[tuple[int, str], ...]
    runs: list[WatcherRun]

    @property
    def edited(self) -> frozenset[int]:
        return frozenset(page for page, _ in self.edits)


def run_scenario(pages: int, watchers: list[Watcher], *, passes: int, concurrency: int,
                 log: Callable[[str], None] = print) -> tuple[Scenario, BenchSite]:
    """Run every step; returns the results and the site, still running with the edits
    made, so that a profiler can watch one more pass. The caller stops the site."""
    bench_site = BenchSite(pages).__enter__()
    try:
        runs = [WatcherRun(w) for w in watchers]
        for r in runs:
            r.watcher.prepare(bench_site.urls)
            r.store_empty = r.watcher.store_bytes()
        for r in _turns(runs, 0):
            r.first = _observe(bench_site, r.watcher.first_pass, r.watcher)
            log(f"  N={pages} {r.watcher.name}: first pass {r.first.result.run.wall:.1f} s")
        for k in range(passes):
            for r in _turns(runs, k + 1):
                r.unchanged.append(_observe(bench_site, r.watcher.check_pass, r.watcher))
                log(f"  N={pages} {r.watcher.name}: unchanged pass {k + 1}/{passes} "
                    f"{r.unchanged[-1].result.run.wall:.1f} s")
        bench_site.apply_edits()
        for r in _turns(runs, passes + 1):
            r.change = _observe(bench_site, r.watcher.check_pass, r.watcher)
            log(f"  N={pages} {r.watcher.name}: change pass {r.change.result.run.wall:.1f} s")
    except BaseException:
        bench_site.__exit__(None, None, None)
        raise
    edits = tuple((e.page, e.kind) for e in bench_site.edits)
    return Scenario(pages, passes, concurrency, edits, runs), bench_site


def probe_concurrency(watchers: list[Watcher], concurrency: int) -> dict[str, int]:
    """The most requests each watcher had in flight on a slowed server: proof that both
    run at the same concurrency (on the fast bench server, answers are too quick for
    requests to pile up, so the passes themselves cannot show it)."""
    seen = {}
    with NoisySite(pages=3 * concurrency, seed=1) as site:
        urls = [site.page_url(n) for n in range(1, 3 * concurrency + 1)]
        for watcher in watchers:
            watcher.prepare(urls)
            watcher.first_pass()
            site.set_delay(PROBE_DELAY)
            site.reset_stats()
            watcher.check_pass()
            site.set_delay(0)
            seen[watcher.name] = max(site.max_in_flight_by_host.values(), default=0)
    return seen


def _turns(runs: list[WatcherRun], shift: int) -> list[WatcherRun]:
    shift %= len(runs)
    return runs[shift:] + runs[:shift]


def _observe(bench_site: BenchSite, do_pass: Callable[[], PassResult],
             watcher: Watcher) -> Observed:
    bench_site.site.reset_stats()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = do_pass()
    after = resource.getrusage(resource.RUSAGE_SELF)
    in_flight = max(bench_site.site.max_in_flight_by_host.values(), default=0)
    server_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tables: dict[str, int] = getattr(watcher, "store_tables", dict)()
    return Observed(result, watcher.store_bytes(), in_flight, server_cpu, tables)
