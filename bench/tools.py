"""What the bench needs from a watcher under test, and what one pass of it yields."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from bench.measure import Run


@dataclass(frozen=True)
class PassResult:
    """One run of the watcher over every page."""

    run: Run
    reported: frozenset[int]  # pages the watcher reported as changed
    failed: int  # checks that ended in an error
    outcomes: Counter[str] = field(default_factory=Counter)
    in_process_seconds: float | None = None  # the pass alone, as the tool itself timed it
    failures: dict[int, str] = field(default_factory=dict)  # page -> outcome: detail


class Watcher(Protocol):
    name: str

    def prepare(self, urls: list[str]) -> None:
        """Set up an empty store and register every URL (not timed)."""

    def first_pass(self) -> PassResult:
        """The pass that records each page's first version."""

    def check_pass(self) -> PassResult:
        """One more pass over every page."""

    def store_bytes(self) -> int:
        """Bytes on disk of everything the watcher keeps about the pages."""


_NUMBER = re.compile(r"/(\d+)/?(?:\?[^/]*)?$")


def page_number(url: str) -> int:
    """The bench's number of a page, the last path segment of its URL
    (`/page/7`, `/news/7`, `/details/7?lang=ru`)."""
    found = _NUMBER.search(url)
    if found is None:
        raise ValueError(f"no page number in {url}")
    return int(found.group(1))
