"""What one check saw, for its line in the check ledger (monitor.evidence.ledger).

A check opens a trace on its thread; the fetcher notes each answer (status and body)
in it and the check notes the document version it read; the last answer is the one
the check's capture ended on (learning's loads come first)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_local = threading.local()


@dataclass
class Trace:
    status: int = 0  # the last HTTP answer's status (0: none)
    body: bytes | None = None  # its body (None: no answer; b"" for a 304)
    noted: bool = False  # the check got as far as recording its result
    version: int | None = None  # the document version whose text the check read
    version_raw: str | None = None  # that version's kept raw page (hex sha256), if any
    ledgered: bool = False  # its ledger row went in with the check's own write


@contextmanager
def tracing() -> Iterator[Trace]:
    outer = getattr(_local, "trace", None)
    _local.trace = trace = Trace()
    try:
        yield trace
    finally:
        _local.trace = outer


def current() -> Trace | None:
    return getattr(_local, "trace", None)


def answered(status: int, body: bytes) -> None:
    """The fetcher's note of one answer (nothing outside a check)."""
    trace: Trace | None = getattr(_local, "trace", None)
    if trace is not None:
        trace.status, trace.body = status, body
