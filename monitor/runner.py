"""Running many checks: building the checker from config, and one bounded pass."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from monitor.check import Checker, CheckResult
from monitor.config import Config
from monitor.fetch import Fetcher, FetchSettings
from monitor.store import EventStore


def fetch_settings(config: Config) -> FetchSettings:
    f = config.fetch
    return FetchSettings(
        contact=f.contact, connect_timeout=f.connect_timeout, read_timeout=f.timeout,
        max_bytes=f.max_bytes, retries=f.retries, backoff_factor=f.backoff,
        max_concurrent_per_host=f.max_concurrent_per_host,
        min_delay_per_host=f.min_delay_per_host, ca_bundle=f.ca_bundle,
    )


def build_checker(config: Config, store: EventStore, **options: object) -> Checker:
    return Checker(store=store, fetcher=Fetcher(fetch_settings(config)), config=config,
                   keep_raw=config.fetch.keep_raw, **options)  # type: ignore[arg-type]


@dataclass
class PassSummary:
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    def line(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts.items()))
        return f"checked {len(self.results)} sources in {self.seconds:.1f}s: {parts or 'nothing'}"


def run_pass(
    checker: Checker,
    names: Iterable[str],
    workers: int,
    on_result: Callable[[CheckResult], None] | None = None,
) -> PassSummary:
    import time

    started = time.monotonic()
    summary = PassSummary()
    names = list(names)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="check") as pool:
        futures = [pool.submit(checker.check, name) for name in names]
        for future in as_completed(futures):
            result = future.result()
            summary.results.append(result)
            if on_result is not None:
                on_result(result)
    summary.seconds = time.monotonic() - started
    return summary
