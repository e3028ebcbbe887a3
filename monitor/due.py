"""When each source is next due: a heap keyed by due time, for the local daemon.

One entry per scheduled source, a tuple in a list (about 100 bytes with its name),
where one APScheduler job per source cost a kilobyte and 0.2 ms to add. Moving a
source (reconfigured, checked, told to come back by learning) or removing it
(paused, removed) does not search the heap: the source's current entry is the one
whose ticket matches `tickets[name]`; older entries are dropped when they surface
(lazy invalidation). The heap is rebuilt when stale entries outnumber live ones, so
it stays within twice the number of sources.

Not thread-safe on its own: the daemon calls it under its lock.
"""

from __future__ import annotations

import heapq
import itertools


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
