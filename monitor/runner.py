"""Running many checks: building the checker from config, and one bounded pass —
in this process (a pool of threads), or split across worker processes.

A pass reads the `sources` projection once and hands each check its row, so a check
costs no lookup of its own (a conflicting append still re-reads; see Checker.check).

Worker processes: the checks of one process share one interpreter, so parsing and
extraction use one core however many threads run them. `processes` > 1 splits the
sources across that many processes (concurrent.futures' ProcessPoolExecutor), each
with its own store connection, fetcher and thread pool; their results stream back to
this process for the summary as they finish. SQLite writes
stay serialized by the store (BEGIN IMMEDIATE and a busy timeout).

Politeness must hold across processes, since each process has its own fetcher and
knows nothing of the others' requests:

- with a delay between requests to a host (`min_delay_per_host` > 0, the default),
  each host's sources all go to one process, which keeps the host's whole limit and
  delay, so both hold exactly as with one process. Hosts are dealt out to balance the
  processes; a source is placed by the host of its URL (a redirect elsewhere is not
  foreseen);
- without a delay, a host's sources are spread over every process, and each process
  may have `max_concurrent_per_host // processes` requests in flight to one host, so
  that together they never exceed the limit. Rounding down, not up: with a limit of
  3 and 2 processes, 2 + 2 would be 4 in flight. No more processes than the limit
  are started, so that each keeps at least one request.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import multiprocessing
import os
import queue as queue_module
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from monitor.check import Checker, CheckResult
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.one_check import build_checker, fetch_settings, run_check
from monitor.store import EventStore
from monitor.store.queries import list_sources
from monitor.store.rows import SourceRow

__all__ = ["PassSummary", "Share", "build_checker", "fetch_settings", "plan_processes",
           "run_pass", "run_pass_in_processes", "source_rows"]

log = logging.getLogger("monitor.runner")


@dataclass
class PassSummary:
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    processes: int = 1

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    def line(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts.items()))
        count = len(self.results)
        return (f"checked {count} source{'s' if count != 1 else ''} in {self.seconds:.1f}s: "
                f"{parts or 'nothing'}")


def source_rows(store: EventStore) -> dict[str, SourceRow]:
    """Every source's projection row, by stream id: read once per pass."""
    return {row.stream_id: row for row in list_sources(store.engine)}


def run_pass(
    checker: Checker,
    names: Iterable[str],
    workers: int,
    on_result: Callable[[CheckResult], None] | None = None,
    rows: Mapping[str, SourceRow] | None = None,
) -> PassSummary:
    """Check `names` on `workers` threads. `rows`: the sources' projection rows by
    stream id, if the caller has them (read here otherwise).

    Each thread takes the next name until none is left: no future per check, whose
    locking and wake-ups cost as much as a small page's parse."""
    started = time.monotonic()
    summary = PassSummary()
    names = list(names)
    pending = Revisits(names)
    if rows is None:
        rows = source_rows(checker.store)
    checker.page_keys.load(names)  # one read for the pass, not one per check
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while True:
            name = pending.take()
            if name is None:
                return
            try:
                # A result whatever the page or a bug does (monitor.one_check); what
                # still escapes is an interrupt (Ctrl-C), which stops the pass.
                result = run_check(checker, name, rows.get(name))
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                pending.stop()
                return
            if pending.done(name, result.again_at):
                continue  # half learned: checked again at again_at, by whichever thread
            with lock:
                summary.results.append(result)
                if on_result is not None:
                    on_result(result)

    threads = [threading.Thread(target=work, name=f"check-{i}", daemon=True)
               for i in range(max(1, min(workers, len(names))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    summary.seconds = time.monotonic() - started
    return summary


class Revisits:
    """The names a pass has left to check, and the ones to check again later: a check
    that ends with `again_at` (a page half learned, monitor.learning) comes back at
    that time, and meanwhile the threads take the other names; none sleeps on a page.
    A name due again goes before a new one, so few first loads wait at once."""

    MAX_REVISITS = 5  # a name coming back more often than this is taken as it ended

    def __init__(self, names: Iterable[str]) -> None:
        self._fresh = iter(names)
        self._later: list[tuple[float, int, str]] = []  # (again_at, order, name): a heap
        self._revisits: Counter[str] = Counter()
        self._busy = 0  # names taken and not yet done: each may come back
        self._stopped = False
        self._ready = threading.Condition()

    def take(self) -> str | None:
        """The next name to check: one due again, else a new one, else waits for the
        earliest to come due; None when nothing is left (or the pass stopped)."""
        with self._ready:
            while not self._stopped:
                now = time.time()
                if self._later and self._later[0][0] <= now:
                    self._busy += 1
                    return heapq.heappop(self._later)[2]
                name = next(self._fresh, None)
                if name is not None:
                    self._busy += 1
                    return name
                if not self._later and not self._busy:
                    return None
                self._ready.wait(self._later[0][0] - now if self._later else None)
            return None

    def done(self, name: str, again_at: float | None) -> bool:
        """`name` was checked; True when it is to be checked again at `again_at`."""
        with self._ready:
            self._busy -= 1
            again = again_at is not None and self._revisits[name] < self.MAX_REVISITS
            if again:
                self._revisits[name] += 1
                heapq.heappush(self._later, (float(again_at or 0), next(_ORDER), name))
            self._ready.notify_all()
            return again

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify_all()


_ORDER = itertools.count()


# --- worker processes -----------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """What one worker process checks, and the fetch limits it keeps to."""

    names: tuple[str, ...]
    workers: int
    max_concurrent_per_host: int


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


RESULT_BATCH = 50  # results a worker process sends back at once


def plan_processes(urls: Mapping[str, str], processes: int, workers: int,
                   config: Config) -> list[Share]:
    """Split the sources (name -> URL) across at most `processes` processes, keeping
    per-host politeness across them (see the module's docstring). Pure."""
    limit = config.fetch.max_concurrent_per_host
    names = list(urls)
    if config.fetch.min_delay_per_host > 0:
        by_host: dict[str, list[str]] = {}
        for name in names:
            by_host.setdefault(_host(urls[name]), []).append(name)
        count = max(1, min(processes, len(by_host)))
        groups: list[list[str]] = [[] for _ in range(count)]
        for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):
            min(groups, key=len).extend(by_host[host])  # largest hosts first, to the lightest
        return _shares(groups, workers, limit)
    count = max(1, min(processes, len(names), limit))
    groups = [names[i::count] for i in range(count)]
    return _shares(groups, workers, limit // count)


def _shares(groups: list[list[str]], workers: int, limit: int) -> list[Share]:
    each = max(1, -(-workers // len(groups)))  # the checks at once, spread over processes
    return [Share(tuple(g), each, limit) for g in groups if g]


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def run_pass_in_processes(
    config: Config,
    database_url: str,
    shares: Sequence[Share],
    *,
    learn: bool = True,
    on_result: Callable[[CheckResult], None] | None = None,
    before_start: Callable[[], None] | None = None,
) -> PassSummary:
    """Run each share in its own worker process and gather the results here, as they
    come (in batches). `before_start` runs just before the processes start (close
    what must not be inherited, such as pooled database connections).

    One single-process ProcessPoolExecutor a share, not one pool for all: a pool
    whose process dies fails every future it holds and stops its other processes,
    and one process lost must cost its own share only."""
    started = time.monotonic()
    context = _context()
    if context.get_start_method() == "fork":
        _import_adapters()  # once, here: forked children inherit them already imported
    if before_start is not None:
        before_start()
    # Results stream back on one queue, given to each process as it starts (a queue
    # crosses to a process only then); a share's last message is its "done".
    queue: Any = context.Queue()
    # With fork, the second pool's process is forked while the first pool's threads
    # run (its manager, waiting on its pipes, and a queue feeder): they hold no lock
    # that a process of another pool takes.
    pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_join_pass,
                                 initargs=(f"check-{i}", queue)) for i in range(len(shares))]
    summary = PassSummary(processes=len(pools))
    fatal: list[str] = []  # the store or the setup failed: the pass cannot be trusted
    lost: dict[int, str] = {}  # a process died (killed, crashed): its unreported checks

    def report(results: list[CheckResult]) -> None:
        summary.results.extend(results)
        if on_result is not None:
            for result in results:
                on_result(result)

    try:
        futures = [pool.submit(_check_share, config, database_url, i, share, learn)
                   for i, (pool, share) in enumerate(zip(pools, shares, strict=True))]
        running = set(range(len(shares)))
        while running:
            try:
                kind, index, payload = queue.get(timeout=0.2)
            except queue_module.Empty:
                for index in list(running):
                    if futures[index].done() and futures[index].exception() is not None:
                        running.discard(index)  # died without its "done" (killed, crashed)
                        lost[index] = (f"check-{index}'s process ended abruptly (killed, or "
                                       "out of memory)")
                continue
            if kind == "results":
                report(payload)
                continue
            running.discard(index)
            # Its work is done: let its process go, and wait for it (a moment), so that
            # its pool's manager thread is joined here. Shut down without waiting, that
            # thread could outlive the pass, and Python 3.11's exit hook then writes to
            # its closed wake-up pipe ("Exception ignored … Bad file descriptor").
            pools[index].shutdown(wait=True)
            if payload is not None:
                how, detail = payload
                if how == "fatal":
                    fatal.append(detail)
                else:
                    lost[index] = detail
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
    if fatal:
        raise MonitorError("a check process failed: " + fatal[0])
    # One process lost is one share unchecked, not the pass: the others' results
    # stand, and each check the lost one did not report is an `error`.
    reported = {r.source for r in summary.results}
    for index, why in lost.items():
        log.error("check process check-%d: %s", index, why)
        report([CheckResult(name, "error", detail=f"not checked: {why.splitlines()[0]}")
                for name in shares[index].names if name not in reported])
    summary.seconds = time.monotonic() - started
    return summary


def _context() -> Any:
    # fork: the children start at once, with the parent's modules already imported.
    # Only from a process with no other thread (one could hold a lock the child would
    # wait on forever, as in a test runner), and only on Linux (on macOS fork is unsafe).
    single = threading.active_count() == 1
    return multiprocessing.get_context("fork" if single and sys.platform == "linux" else "spawn")


def _import_adapters() -> None:
    from monitor import sources

    sources.KINDS  # noqa: B018  (discovery imports every adapter module)


_results: Any = None  # in a worker process: the pass's queue (set by _join_pass)


def _join_pass(name: str, queue: Any) -> None:
    global _results
    multiprocessing.current_process().name = name
    _results = queue


def _check_share(config: Config, database_url: str, index: int, share: Share,
                 learn: bool) -> None:
    """In a worker process: its own store connection, fetcher and thread pool."""
    from monitor.store import open_store

    queue = _results
    try:
        # the parent checked it
        store = open_store(database_url, check_schema=False, threads=share.workers)
        fetch = replace(config.fetch, max_concurrent_per_host=share.max_concurrent_per_host)
        checker = build_checker(replace(config, fetch=fetch), store, learn=learn,
                                learn_later=True)  # run_pass comes back (Revisits)
        try:
            batch: list[CheckResult] = []

            def send(result: CheckResult) -> None:
                # In batches: a put per check costs a lock hand-over and a wake-up
                # of the queue's thread, as much as a small page's extraction.
                batch.append(result)
                if len(batch) >= RESULT_BATCH:
                    queue.put(("results", index, batch.copy()))
                    batch.clear()

            run_pass(checker, share.names, share.workers, on_result=send)
            if batch:
                queue.put(("results", index, batch))
        finally:
            checker.fetcher.close()
            store.engine.dispose()
    except BaseException as exc:  # reported to the parent, which says it in one line
        detail = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, MonitorError):  # not the store's trouble: this share's only
            queue.put(("done", index, ("error", detail + "\n" + traceback.format_exc())))
            return
        queue.put(("done", index, ("fatal", detail)))
        return
    queue.put(("done", index, None))
