"""From observed passes to the bench's figures.

- pages/s: N / the median wall time of the K unchanged passes, each pass being a whole
  command (process start, imports and exit included, as a cron job pays them). The
  median, because other work on the machine can slow any one pass.
- CPU ms/page: the median user + system time of those commands / N.
- bytes per unchanged check: store growth over the K unchanged passes / (K x N).
- bytes per change: store growth in the change pass / the changes the watcher reported
  in it: what recording one change costs it, whether or not the change was real.
- precision and recall: over every pass after the first. A true change is an edited
  page in the change pass; anything else a watcher reports is a false alarm.
- store after a day (a projection, not a measurement): what 24 hourly passes would
  store, from the figures above: the first pass, then 23 passes in which the share of
  pages the change pass edited change and the rest do not:
  first + 23 x N x (share x bytes per change + (1 - share) x bytes per unchanged check).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.scenario import Scenario, WatcherRun

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Figures:
    name: str
    pages_per_second: float
    cpu_ms_per_page: float
    in_process_pages_per_second: float | None  # the tool's own timing of its passes
    max_rss_mb: float
    first_pass_seconds: float
    first_pass_cpu_ms_per_page: float
    first_pass_bytes_per_page: float
    bytes_per_unchanged_check: float
    bytes_per_change: float | None
    bytes_per_change_by_table: tuple[tuple[str, float], ...]  # where they go, if known
    store_bytes: int
    true_positives: int
    false_alarms: int  # over all passes after the first
    false_alarms_unchanged: int  # in the unchanged passes alone
    missed: tuple[int, ...]
    failed: int
    max_in_flight: int
    server_cpu_ms_per_page: float
    projected_day_bytes: float | None = None  # see the module's docstring


    @property
    def precision(self) -> float | None:
        reported = self.true_positives + self.false_alarms
        return self.true_positives / reported if reported else None

    @property
    def recall(self) -> float:
        found = self.true_positives + len(self.missed)
        return self.true_positives / found if found else 1.0


def figures(scenario: Scenario, run: WatcherRun) -> Figures:
    assert run.first is not None and run.change is not None
    n, k, edited = scenario.pages, scenario.passes, scenario.edited
    timed = run.unchanged
    wall = statistics.median(o.result.run.wall for o in timed) if timed else 0.0
    cpu = statistics.median(o.result.run.cpu for o in timed) if timed else 0.0
    own = [o.result.in_process_seconds for o in timed if o.result.in_process_seconds]
    in_process = n / statistics.median(own) if own and len(own) == len(timed) else None
    before_unchanged = run.first.store_after
    after_unchanged = timed[-1].store_after if timed else before_unchanged
    per_unchanged = (after_unchanged - before_unchanged) / (k * n) if k else 0.0
    reported = run.change.result.reported
    change_growth = run.change.store_after - after_unchanged
    per_change = change_growth / len(reported) if reported else None
    by_table: tuple[tuple[str, float], ...] = ()
    if reported and timed and run.change.tables:
        before = timed[-1].tables
        growth = {t: b - before.get(t, 0) for t, b in run.change.tables.items()}
        by_table = tuple((t, g / len(reported)) for t, g in
                         sorted(growth.items(), key=lambda kv: -kv[1]) if g)
    false_unchanged = sum(len(o.result.reported) for o in timed)
    first_bytes = run.first.store_after - run.store_empty
    share = len(edited) / n if n else 0.0
    projected = None
    if per_change is not None:
        hourly = n * (share * per_change + (1 - share) * per_unchanged)
        projected = first_bytes + (HOURS_PER_DAY - 1) * hourly
    every = [run.first, *timed, run.change]
    return Figures(
        name=run.watcher.name,
        pages_per_second=n / wall if wall else 0.0,
        cpu_ms_per_page=1000 * cpu / n,
        in_process_pages_per_second=in_process,
        max_rss_mb=max(o.result.run.max_rss_kb for o in every) / 1024,
        first_pass_seconds=run.first.result.run.wall,
        first_pass_cpu_ms_per_page=1000 * run.first.result.run.cpu / n,
        first_pass_bytes_per_page=first_bytes / n,
        bytes_per_unchanged_check=per_unchanged,
        bytes_per_change=per_change,
        bytes_per_change_by_table=by_table,
        store_bytes=run.change.store_after,
        true_positives=len(reported & edited),
        false_alarms=len(reported - edited) + false_unchanged,
        false_alarms_unchanged=false_unchanged,
        missed=tuple(sorted(edited - reported)),
        failed=sum(o.result.failed for o in every),
        max_in_flight=max(o.max_in_flight for o in [*timed, run.change]),
        server_cpu_ms_per_page=1000 * sum(o.server_cpu for o in timed) / (n * k) if k else 0.0,
        projected_day_bytes=projected,
    )

