"""When each source is next due: a heap keyed by due time, for the local daemon.

One entry per scheduled source, a tuple in a list (about 100 bytes with its name),
where one APScheduler job per source cost a kilobyte and 0.2 ms to add. Moving a
source (reconfigured, checked, told to come back by learning) or removing it
(paused, removed) does not search the heap: the source's current entry is the one
whose ticket matches `tickets[name]`; older entries are dropped when they surface
(lazy invalidation). The heap is rebuilt when stale entries outnumber live ones, so
it stays within twice the number of sources.

Not thread-safe on its own: the daemon calls it under its lock.

`DueTimes` is what the daemon needs of any such store; the cluster's scheduler keeps
the same in a Redis sorted set (monitor.cluster.state.DueSet), so that a standby
taking over finds every due time where the last scheduler left it.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Collection, Iterable
from typing import Protocol


class DueTimes(Protocol):
    def __len__(self) -> int: ...

    def schedule(self, name: str, interval: int, at: float) -> None:
        """`name` (checked every `interval` seconds) is due at `at`."""

    def schedule_many(self, items: Iterable[tuple[str, int, float]]) -> None:
        """(name, interval, at) for each; a name already due keeps its due time."""

    def discard(self, name: str) -> None: ...

    def retain(self, names: Collection[str]) -> None:
        """Forget every source not in `names`."""

    def pop_due(self, now: float, limit: int) -> list[tuple[str, float]]: ...

    def next_at(self) -> float | None: ...

    def checked(self, name: str, due_at: float, interval: int,
                again_at: float | None) -> float | None:
        """A popped source's check ended (or was sent): when is it due next. Returns
        that time where it is known here (None: another set it)."""


def next_due(due_at: float, interval: int, now: float, jitter: float = 0.0) -> float:
    """Fixed rate around the due time (so jitter does not drift the interval); a source
    that fell a whole interval behind is due an interval from now (coalesced)."""
    at = due_at + interval + random.uniform(-jitter, jitter) / 2
    return at if at > now else now + interval


class DueHeap:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._tickets: dict[str, int] = {}  # name -> the ticket of its live entry
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self._tickets)

    def __contains__(self, name: object) -> bool:
        return name in self._tickets

    def set(self, name: str, at: float) -> None:
        """`name` is due at `at` (Unix seconds), whatever it was due at before."""
        ticket = next(self._counter)
        self._tickets[name] = ticket
        heapq.heappush(self._heap, (at, ticket, name))
        if len(self._heap) > 2 * len(self._tickets) + 64:
            self._compact()

    def schedule(self, name: str, interval: int, at: float) -> None:
        self.set(name, at)

    def schedule_many(self, items: Iterable[tuple[str, int, float]]) -> None:
        for name, _interval, at in items:
            if name not in self._tickets:
                self.set(name, at)

    def retain(self, names: Collection[str]) -> None:
        for name in [n for n in self._tickets if n not in names]:
            del self._tickets[name]

    def checked(self, name: str, due_at: float, interval: int,
                again_at: float | None) -> float | None:
        if name in self._tickets:  # set again while it ran (reconfigured): that stands
            return None
        at = (again_at if again_at is not None
              else next_due(due_at, interval, time.time(), min(60, interval // 10)))
        self.set(name, at)
        return at

    def discard(self, name: str) -> None:
        """`name` is no longer due at all (its heap entry goes when it surfaces)."""
        self._tickets.pop(name, None)

    def next_at(self) -> float | None:
        """When the earliest live entry is due; None when nothing is scheduled."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[tuple[str, float]]:
        """Up to `limit` sources due at or before `now`, earliest first, as (name, due at).

        A popped source is no longer scheduled: the caller sets it again once it knows
        when (after its check, at its interval or at the time learning asked for).
        """
        taken: list[tuple[str, float]] = []
        while len(taken) < limit:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                break
            at, _ticket, name = heapq.heappop(self._heap)
            del self._tickets[name]
            taken.append((name, at))
        return taken

    def due_at(self, name: str) -> float | None:
        """When `name` is due (a scan: for tests and status, not the hot path)."""
        ticket = self._tickets.get(name)
        if ticket is None:
            return None
        return next(at for at, t, n in self._heap if t == ticket and n == name)

    def _drop_stale(self) -> None:
        heap, tickets = self._heap, self._tickets
        while heap and tickets.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)

    def _compact(self) -> None:
        tickets = self._tickets
        self._heap = [entry for entry in self._heap if tickets.get(entry[2]) == entry[1]]
        heapq.heapify(self._heap)
