"""The check ledger's cost: what the proof of an unchanged check adds to the store.

    python -m bench.ledger_bench [N] [K]     (default N = 200 noisy pages, K = 3 passes)

monitor registers N pages of the bench's noisy site (a CSRF token and a clock in
every page, so the raw body differs on every load) and checks them once (learning).
Then K unchanged passes, each followed by `monitor checkpoint` (an hourly check under
an hourly checkpoint): the store's growth over the passes alone is the ledger rows'
cost per unchanged check; with the checkpoints, it includes each pass's
ChecksSummarized event and the CheckpointSigned that covers it. Both are per check.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.measure import run, sqlite_bytes, sqlite_tables
from bench.monitor_run import MonitorWatcher
from bench.pages import BenchSite

TARGET = 50.0  # bytes per unchanged check, the proof included


def measure(n: int = 200, passes: int = 3,
            log: Callable[[str], None] = print) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, BenchSite(n) as site:
        watcher = MonitorWatcher(Path(tmp) / "monitor", concurrency=8)
        watcher.prepare(site.urls)
        watcher.first_pass()
        rows_only = with_proof = 0
        ledger_before = sqlite_tables(watcher.db).get("check_ledger", 0)
        for _ in range(passes):
            before = sqlite_bytes(watcher.db)
            done = watcher.check_pass()
            if done.outcomes != {"unchanged": n}:
                raise RuntimeError(f"an unchanged pass found {dict(done.outcomes)}")
            checked = sqlite_bytes(watcher.db)
            run(watcher.command("checkpoint"), cwd=watcher.workdir).check()
            signed = sqlite_bytes(watcher.db)
            rows_only += checked - before
            with_proof += signed - before
        ledger_after = sqlite_tables(watcher.db).get("check_ledger", 0)
        figures = {
            "pages": n, "passes": passes,
            "bytes_per_unchanged_check": rows_only / (n * passes),
            "bytes_per_unchanged_check_signed": with_proof / (n * passes),
            "ledger_table_bytes_per_check": (ledger_after - ledger_before) / (n * passes),
        }
    log(f"ledger: N={n}, {passes} unchanged passes of noisy pages: "
        f"{figures['bytes_per_unchanged_check']:.1f} bytes per unchanged check (its ledger "
        f"row; the check_ledger table grew {figures['ledger_table_bytes_per_check']:.1f}); "
        f"{figures['bytes_per_unchanged_check_signed']:.1f} with a checkpoint after each "
        f"pass (summary + signed checkpoint included); target < {TARGET:.0f}")
    return figures


if __name__ == "__main__":
    measure(*(int(a) for a in sys.argv[1:3]))
