"""First loads of pages being learned, kept until their second load is due.

Learning a page's noise compares loads a few seconds apart (monitor.sources.html).
A checker that learns in two steps (Checker.learn_later) loads the page once,
keeps the text here, and answers "check me again at T" (CheckResult.again_at)
instead of holding a worker asleep; the check at T makes the other loads.

Kept in memory, not in the store: a first load is only worth something for the
minutes around its second load, a page is up to a few megabytes, and writing one
per new source would be the largest write of an add of many sources, for nothing
the evidence keeps. Losing it costs one load: a restarted process, another worker of
a cluster, or a load evicted from a full memory starts the learning from its first
load again. The memory is bounded (MAX_PAGES entries; the oldest go first) and a
load older than MAX_AGE is not used (what changed since may be the page's news, not
its noise).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_PAGES = 2000
MAX_AGE = 600.0  # seconds


@dataclass(frozen=True)
class FirstLoad:
    text: str
    at: float  # Unix time of the load


class FirstLoads:
    """Thread-safe: the threads of a pass share one checker."""

    def __init__(self, max_pages: int = MAX_PAGES, max_age: float = MAX_AGE) -> None:
        self.max_pages = max_pages
        self.max_age = max_age
        self._loads: OrderedDict[str, FirstLoad] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, stream_id: str, text: str, at: float | None = None) -> FirstLoad:
        load = FirstLoad(text, time.time() if at is None else at)
        with self._lock:
            self._loads.pop(stream_id, None)
            self._loads[stream_id] = load
            while len(self._loads) > self.max_pages:
                self._loads.popitem(last=False)
        return load

    def get(self, stream_id: str, now: float | None = None) -> FirstLoad | None:
        """The source's first load, unless none is kept or it is too old to use."""
        now = time.time() if now is None else now
        with self._lock:
            load = self._loads.get(stream_id)
            if load is not None and now - load.at > self.max_age:
                del self._loads[stream_id]
                return None
            return load

    def forget(self, stream_id: str) -> None:
        with self._lock:
            self._loads.pop(stream_id, None)

    def __len__(self) -> int:
        return len(self._loads)
