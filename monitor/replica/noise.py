"""Everything a page shows that changes on every load and is not content.

View counters, clocks, CSRF tokens, cache-busting asset versions, rotating and
shuffled blocks: a monitor that alerts on any of these is useless, so the replicas
put all of them on every response.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


class Noise:
    """A source of per-load noise; `enabled=False` makes every value constant."""

    def __init__(self, *, enabled: bool = True, seed: int | None = None) -> None:
        self.enabled = enabled
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._views: dict[str, int] = {}

    def views(self, key: str) -> int:
        """A view counter that goes up on every load of `key`."""
        with self._lock:
            if key not in self._views:
                self._views[key] = self._rng.randint(100, 5000)
            if self.enabled:
                self._views[key] += self._rng.randint(1, 7)
            return self._views[key]

    def token(self) -> str:
        """A CSRF-like token, new on every load."""
        if not self.enabled:
            return "0" * 32
        with self._lock:
            return f"{self._rng.getrandbits(128):032x}"

    def asset_version(self) -> str:
        """A cache-busting suffix for `app.js?v=…`."""
        if not self.enabled:
            return "1"
        with self._lock:
            return f"{self._rng.getrandbits(40):010x}"

    def clock(self) -> str:
        """The server's time, to the millisecond, so two loads never agree."""
        if not self.enabled:
            return "00:00:00.000"
        return datetime.now().strftime("%H:%M:%S.%f")[:-3]

    def timestamp(self) -> str:
        if not self.enabled:
            return "2000-01-01T00:00:00"
        return datetime.now().isoformat(timespec="microseconds")

    def shuffled(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        if self.enabled:
            with self._lock:
                self._rng.shuffle(out)
        return out

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        if not self.enabled or len(items) <= k:
            return list(items[:k])
        with self._lock:
            return self._rng.sample(list(items), k)
