"""A day of hourly checks, measured: what each watcher's store holds at the end.

The storage target compares what the watchers keep, and a watcher's store is what
it grows to over time, not one pass. The main scenario projects a day from its
per-check figures; this one runs the day: a fresh store per watcher, the first pass,
then 23 hourly passes, with the edits made in four rounds (before hours 6, 12, 18
and 23), each round a different quarter of the bench's planned edits. The figure is
each store's whole size on disk after the 24th pass, counted from nothing (monitor's
schema and the registration of the pages included); every round's edits are scored
too, so that a watcher cannot win on bytes by missing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.pages import BenchSite, Edit
from bench.tools import PassResult, Watcher

HOURS = 24
EDIT_HOURS = (6, 12, 18, 23)  # before these passes (the first pass is hour 1)
DAY_EDIT_SHARE = 0.05  # of the pages, over the whole day


@dataclass
class DayRun:
    watcher: Watcher
    store_empty: int = 0
    after_first: int = 0
    store_end: int = 0
    reported: set[tuple[int, int]] = field(default_factory=set)  # (hour, page)
    failed: int = 0


@dataclass(frozen=True)
class Day:
    pages: int
    rounds: tuple[tuple[int, tuple[Edit, ...]], ...]  # (hour, edits made before it)
    runs: tuple[DayRun, ...]

    @property
    def expected(self) -> set[tuple[int, int]]:
        return {(hour, e.page) for hour, edits in self.rounds for e in edits}


def run_day(pages: int, watchers: list[Watcher],
            log: Callable[[str], None] = print) -> Day:
    """Run the day for every watcher on one site; they take turns each hour."""
    with BenchSite(pages, seed=2026, edit_share=DAY_EDIT_SHARE) as site:
        planned = site.edits
        groups = [planned[i::len(EDIT_HOURS)] for i in range(len(EDIT_HOURS))]
        rounds = tuple(zip(EDIT_HOURS, (tuple(g) for g in groups), strict=True))
        runs = tuple(DayRun(w) for w in watchers)
        for r in runs:
            r.watcher.prepare(site.urls)
            r.store_empty = r.watcher.store_bytes()
        edits_before = dict(rounds)
        for hour in range(1, HOURS + 1):
            if hour in edits_before:
                site.apply_edits(edits_before[hour])
            turn = runs[hour % len(runs):] + runs[:hour % len(runs)]
            for r in turn:
                result = r.watcher.first_pass() if hour == 1 else r.watcher.check_pass()
                _score(r, hour, result)
                if hour == 1:
                    r.after_first = r.watcher.store_bytes()
            if hour % 6 == 0 or hour == HOURS:
                log(f"  day at N={pages}: hour {hour}/{HOURS} done")
        for r in runs:
            r.store_end = r.watcher.store_bytes()
    return Day(pages, rounds, runs)


def _score(run: DayRun, hour: int, result: PassResult) -> None:
    run.failed += result.failed
    if hour > 1:
        run.reported |= {(hour, page) for page in result.reported}


def day_rows(day: Day) -> list[tuple[str, dict[str, str]]]:
    """(label, value per watcher) for the day's table."""
    expected = day.expected
    rows: list[tuple[str, dict[str, str]]] = []

    def row(label: str, value: Callable[[DayRun], str]) -> None:
        rows.append((label, {r.watcher.name: value(r) for r in day.runs}))

    row("store after 24 hourly passes, bytes", lambda r: f"{r.store_end}")
    row("  of which the setup (schema, pages registered)", lambda r: f"{r.store_empty}")
    row("  of which the first pass", lambda r: f"{r.after_first - r.store_empty}")
    row("  of which the 23 later passes", lambda r: f"{r.store_end - r.after_first}")
    row("changes reported (true / false)",
        lambda r: f"{len(r.reported & expected)} / {len(r.reported - expected)}")
    row("edits missed", lambda r: f"{len(expected - r.reported)}")
    row("failed checks", lambda r: f"{r.failed}")
    return rows


def stored(day: Day, name: str) -> int | None:
    found = [r.store_end for r in day.runs if r.watcher.name == name]
    return found[0] if found else None


def exact(day: Day, name: str) -> bool:
    """The watcher reported every edit of the day, at the hour it was made, and nothing else."""
    found = [r for r in day.runs if r.watcher.name == name]
    return bool(found) and found[0].reported == day.expected
