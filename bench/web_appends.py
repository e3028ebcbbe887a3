"""The honest way, timed: the same histories appended through EventStore.append, one
append per step, with the store's own projectors, blob encoding and commits. The bench
times it on a few sources to say what filling the whole store this way would cost,
and the test compares what it writes with the bulk load, row for row."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from bench.web_history import Step
from monitor.store import open_store
from monitor.store.mapper import to_event
from monitor.store.snapshots import Blob, _decode


def texts(steps: Sequence[Step]) -> dict[str, bytes]:
    """Every blob's content, decoded from the encoded rows (bases come first)."""
    found: dict[str, bytes] = {}
    for step in steps:
        for row in step.blobs:
            base = found.get(row["base"]) if row["base"] else None
            found[row["sha256"]] = _decode(row["sha256"], SimpleNamespace(**row), base)
    return found


def append_for_real(url: str, steps: Sequence[Step]) -> tuple[int, int, float]:
    """Appends every step to the (migrated) store at `url`; (appends, versions, seconds).
    Each event is recorded at the moment the bulk load gave it."""
    contents = texts(steps)
    moments: deque[datetime] = deque()
    store = open_store(url, clock=moments.popleft)
    versions = 0
    try:
        started = time.perf_counter()
        for step in steps:
            moments.extend(e["recorded_at"] for e in step.events)
            events = [to_event(e["type"], e["schema_version"], e["data"]) for e in step.events]
            blobs = [Blob(r["sha256"], r["kind"], contents[r["sha256"]], _base(step, r))
                     for r in step.blobs]
            store.append(step.stream_id, step.events[0]["version"] - 1, events, blobs=blobs)
            versions += sum(e["type"] == "VersionCaptured" for e in step.events)
        return len(steps), versions, time.perf_counter() - started
    finally:
        store.engine.dispose()


def _base(step: Step, row: dict[str, Any]) -> str | None:
    """The hint the checker gives: the stream's current text (delta or not)."""
    for e in step.events:
        if e["type"] == "ChangeDetected":
            return str(e["data"]["from_hash"])
    return row["base"]
