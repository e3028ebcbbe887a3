"""Checkpoints, timed: what signing and checking the whole log costs as it grows.

    python -m bench.evidence_bench [N]     (default N = 100,000 events; a minute or two)

A SQLite store of N small events (100 to an append, as busy checks make them) is built,
then: the Merkle root over N leaves alone; `monitor checkpoint`'s work (read every
event's leaf columns, root, consistency proof from the previous checkpoint, sign,
append, witness line); `verify`'s checkpoint pass over the log; and the witness file's
bytes per checkpoint.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from monitor.events import SourcePaused, SourceResumed
from monitor.evidence import checkpoints, merkle
from monitor.evidence.audit import AuditReport, audit, gather
from monitor.evidence.keys import create_key, load_signing_key
from monitor.evidence.settings import EvidenceSettings
from monitor.store import EventStore, migrate

BATCH = 100
STREAMS = 200


def _timed(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build(folder: Path, n: int) -> EventStore:
    store = EventStore.open(f"sqlite:///{folder / 'monitor.db'}")
    migrate.upgrade(store.engine)
    versions = [0] * STREAMS
    for i in range(n // BATCH):
        s = i % STREAMS
        batch = [SourcePaused(reason=f"bench {i}") if k % 2 == 0 else SourceResumed()
                 for k in range(BATCH)]
        store.append(f"s{s}", versions[s], batch)
        versions[s] += BATCH
    return store


def run(n: int, log: Callable[[str], None] = print) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        store = build(folder, n)
        log(f"evidence: built a store of {n} events in {time.perf_counter() - started:.1f} s")
        leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
        root_s = _timed(lambda: merkle.root(leaves))
        settings = EvidenceSettings(key_file=folder / "key", witness_file=folder / "w.jsonl")
        create_key(settings.key_file)
        key = load_signing_key(settings.key_file)
        checkpoints.take(store, key, settings)  # the first: no proof yet
        take_s = _timed(lambda: checkpoints.take(store, key, settings))
        lines = settings.witness_file.read_bytes().splitlines()
        line_bytes = statistics.median(len(line) + 1 for line in lines[1:])

        def check() -> None:
            report = AuditReport()
            seen = gather(checkpoints.store_checkpoints(store), [settings.witness_file], report)
            audit(store.engine, seen, key.public, report)
            assert not report.problems, report.problems

        verify_s = _timed(check)
        store.engine.dispose()
    figures = {"events": n, "root_s": root_s, "checkpoint_s": take_s, "verify_s": verify_s,
               "witness_line_bytes": line_bytes, "checkpoints_verified": len(lines)}
    log(f"evidence: N={n}: Merkle root over the leaf hashes {root_s:.3f} s; a checkpoint "
        f"(read leaves, root, proof, sign, append, witness) {take_s:.3f} s; verify's "
        f"checkpoint pass ({len(lines)} checkpoints) {verify_s:.3f} s; witness "
        f"{line_bytes:.0f} bytes per checkpoint")
    return figures


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
