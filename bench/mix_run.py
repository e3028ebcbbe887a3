"""Running one part of the real-mix bench: every watcher over the same site, pass by
pass, taking turns in an order that rotates each pass; each pass measured (wall, CPU,
store growth, what was reported) and, for monitor, its page-key hits."""

from __future__ import annotations

import contextlib
import resource
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bench.monitor_run import MonitorWatcher
from bench.tools import PassResult, Watcher
from monitor.replica.server import ReplicaServer


class MixSite(Protocol):
    kind: str
    pages: int

    @property
    def server(self) -> ReplicaServer: ...

    def urls(self, watcher_name: str) -> list[str]: ...

    def change_edits(self) -> frozenset[int]: ...

    def word_edits(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class PassFigures:
    """One pass of one watcher."""

    watcher: str
    pages: int
    wall: float
    cpu: float
    stored: int  # bytes the store grew by
    reported: frozenset[int]
    failed: int
    server_cpu: float
    key_hits: int | None = None  # monitor: unchanged checks that the page key decided

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages if self.pages else 0.0

    @property
    def bytes_per_change(self) -> float | None:
        return self.stored / len(self.reported) if self.reported else None


@dataclass
class Part:
    key: str  # "html", "govkz" or "corpus"
    title: str
    kind: str
    pages: int
    watchers: list[str]
    passes: dict[str, dict[str, PassFigures]] = field(default_factory=dict)  # label -> name
    edited: dict[str, frozenset[int]] = field(default_factory=dict)  # label -> pages edited
    retried: dict[str, int] = field(default_factory=dict)  # watcher -> first passes retried

    def figures(self, label: str, watcher: str) -> PassFigures | None:
        return self.passes.get(label, {}).get(watcher)


def run_part(key: str, title: str, site: MixSite, watchers: list[Watcher], *, unchanged: int,
             word_pass: bool = True, retries: int = 0,
             log: Callable[[str], None] = print) -> Part:
    """First pass, `unchanged` unchanged passes, the change pass, and (`word_pass`) a
    pass after one word was edited in a few pages not edited before. A watcher whose
    first pass failed some checks gets up to `retries` more first passes (not in the
    figures), so that its unchanged passes are not first captures."""
    part = Part(key, title, site.kind, site.pages, [w.name for w in watchers])
    for w in watchers:
        w.prepare(site.urls(w.name))
    steps: list[tuple[str, Callable[[], frozenset[int]] | None]] = [("first", None)]
    steps += [(f"unchanged {k + 1}" if unchanged > 1 else "unchanged", None)
              for k in range(unchanged)]
    steps.append(("change", site.change_edits))
    if word_pass:
        steps.append(("one word", site.word_edits))
    for shift, (label, edit) in enumerate(steps):
        part.edited[label] = edit() if edit is not None else frozenset()
        order = watchers[shift % len(watchers):] + watchers[:shift % len(watchers)]
        for w in order:
            do = w.first_pass if label == "first" else w.check_pass
            got = _measure(site, w, do)
            part.passes.setdefault(label, {})[w.name] = got
            log(f"  {site.kind} N={site.pages} {w.name}: {label} pass {got.wall:.1f} s, "
                f"CPU {got.cpu:.1f} s, {len(got.reported)} changed, {got.failed} failed")
            failed = got.failed if label == "first" else 0
            for k in range(retries if failed else 0):
                failed = w.first_pass().failed
                part.retried[w.name] = part.retried.get(w.name, 0) + 1
                log(f"  {site.kind} N={site.pages} {w.name}: first pass retried "
                    f"({k + 1}/{retries}, not timed), {failed} failed")
                if not failed:
                    break
    return part


def _measure(site: MixSite, watcher: Watcher, do_pass: Callable[[], PassResult]) -> PassFigures:
    server = site.server
    keys_before = _page_keys(watcher)
    store_before = watcher.store_bytes()
    server.reset_stats()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = do_pass()
    after = resource.getrusage(resource.RUSAGE_SELF)
    hits = None
    if keys_before is not None:
        keys_after = _page_keys(watcher) or {}
        unchanged = site.pages - len(result.reported) - result.failed
        same = sum(1 for k, v in keys_before.items() if keys_after.get(k) == v)
        hits = min(same, unchanged)
    return PassFigures(
        watcher=watcher.name, pages=site.pages, wall=result.run.wall, cpu=result.run.cpu,
        stored=watcher.store_bytes() - store_before, reported=result.reported,
        failed=result.failed,
        server_cpu=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        key_hits=hits)


def _page_keys(watcher: Watcher) -> dict[str, tuple[str, str]] | None:
    """monitor's page-key rows (source -> (content hash, key)), read from its store
    by the bench; None for other watchers or a store without the table."""
    if not isinstance(watcher, MonitorWatcher) or not watcher.db.exists():
        return None
    with contextlib.closing(sqlite3.connect(watcher.db)) as db:
        try:
            rows = db.execute("SELECT stream_id, content_hash, page_key FROM page_keys")
            return {r[0]: (r[1], r[2]) for r in rows}
        except sqlite3.DatabaseError:
            return None
