"""The check ledger's cost: what the proof of an unchanged check adds to the store.

    python -m bench.ledger_bench [N] [K]     (default N = 200 noisy pages, K = 10 passes)

monitor registers N pages of the bench's noisy site (a CSRF token and a clock in
every page, so the raw body differs on every load) and checks them once (learning).
Then K unchanged passes, each followed by `monitor checkpoint` (an hourly check under
an hourly checkpoint): the store's growth over the passes alone / (K x N) is the
ledger row's cost per unchanged check (SQLite pages, after a WAL checkpoint: N >= 200
and K >= 10 keep the page rounding within a few bytes); the growth over the
checkpoints is each one's ChecksSummarized (2 bytes of tag per check) and
CheckpointSigned, given per checkpoint and spread over the pass's checks. The passes'
growth is also given per table and index (SQLite's dbstat), so a change in the figure
names its cause (the ledger's index by source and time, migration 0008, is about 20 of
the bytes).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.measure import run, sqlite_bytes, sqlite_tables
from bench.monitor_run import MonitorWatcher
from bench.pages import BenchSite

TARGET = 50.0  # bytes per unchanged check


def measure(n: int = 200, passes: int = 10,
            log: Callable[[str], None] = print) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, BenchSite(n) as site:
        watcher = MonitorWatcher(Path(tmp) / "monitor", concurrency=8)
        watcher.prepare(site.urls)
        watcher.first_pass()
        run(watcher.command("checkpoint"), cwd=watcher.workdir).check()
        rows = signing = 0
        walls = []
        tables: Counter[str] = Counter()
        for _ in range(passes):
            before = sqlite_bytes(watcher.db)
            tables.subtract(sqlite_tables(watcher.db))
            done = watcher.check_pass()
            if done.outcomes != {"unchanged": n}:
                raise RuntimeError(f"an unchanged pass found {dict(done.outcomes)}")
            walls.append(done.run.wall)
            checked = sqlite_bytes(watcher.db)
            tables.update(sqlite_tables(watcher.db))
            run(watcher.command("checkpoint"), cwd=watcher.workdir).check()
            rows += checked - before
            signing += sqlite_bytes(watcher.db) - checked
        witness = (watcher.workdir / "witness.jsonl").read_bytes().splitlines()
        figures = {
            "pages": n, "passes": passes,
            "bytes_per_unchanged_check": rows / (n * passes),
            "bytes_per_checkpoint": signing / passes,
            "bytes_per_unchanged_check_signed": (rows + signing) / (n * passes),
            "witness_line_bytes": statistics.median(len(line) + 1 for line in witness[1:]),
            "pass_seconds": statistics.median(walls),
        }
        by_table = {name: grown / (n * passes) for name, grown in tables.most_common()
                    if grown}
    log(f"ledger: N={n}, {passes} unchanged passes of noisy pages (the body differs on "
        f"every load), each followed by a checkpoint: "
        f"{figures['bytes_per_unchanged_check']:.1f} bytes per unchanged check (its ledger "
        f"row; target < {TARGET:.0f}); {figures['bytes_per_checkpoint']:.0f} bytes per "
        f"checkpoint (ChecksSummarized of {n} checks + CheckpointSigned), "
        f"{figures['bytes_per_unchanged_check_signed']:.1f} per check with it; witness "
        f"{figures['witness_line_bytes']:.0f} bytes per checkpoint; median pass "
        f"{figures['pass_seconds']:.1f} s")
    log("ledger: bytes per unchanged check by table: "
        + ", ".join(f"{name} {size:.1f}" for name, size in by_table.items()))
    return figures


if __name__ == "__main__":
    measure(*(int(a) for a in sys.argv[1:3]))
