"""JSON written differently on every answer, as real APIs do: the same value with its
keys in another order, other whitespace and other escaping (`\\/` for `/`, `\\uXXXX`
for non-ASCII), so that a watcher comparing the answer's bytes sees a change on every
load while nothing was edited."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

_SEPARATORS = ((",", ":"), (", ", ": "), (",", ": "), (" ,", " : "))


class Reserialiser:
    """`dumps(value)` gives bytes that differ from one call to the next (seeded)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def dumps(self, value: Any) -> bytes:
        with self._lock:
            rng = self._rng
            shuffled = _shuffled(value, rng)
            indent = rng.choice((None, None, 1, 2, 4))
            separators = rng.choice(_SEPARATORS) if indent is None else (",", ": ")
            ascii_only = rng.random() < 0.5
            slashes = rng.random() < 0.5
        text = json.dumps(shuffled, ensure_ascii=ascii_only, indent=indent,
                          separators=separators)
        if slashes:
            text = text.replace("/", "\\/")  # legal JSON escaping, as PHP writes it
        return text.encode("utf-8")


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: _shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value
