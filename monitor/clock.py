"""Time, injected: the store stamps events and ledger rows with its clock, and the
checker times checks and pauses with its own. Production code uses `SystemClock`; a
test hands both one `ManualClock` and moves it, so time passes when the test says
instead of while it sleeps (and a loaded machine cannot make it flaky).

Calling a clock gives what the store records: naive UTC (the columns are
`DateTime(timezone=False)`), so a clock is also the plain callable
`EventStore(clock=...)` has always taken.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, naive UTC: the moment as the store records it."""
        ...

    def now(self) -> datetime:
        """Now, an aware UTC datetime."""
        ...

    def time(self) -> float:
        """Seconds since 1970 (as time.time())."""
        ...

    def monotonic(self) -> float:
        """Seconds that only go forward (as time.monotonic()), for durations."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's clock."""

    def __call__(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM = SystemClock()


class ManualClock:
    """A clock that moves only when told: `advance(seconds)`, `set(moment)`, or a
    `sleep`, which returns at once having moved it. Not thread-safe beyond what one
    assignment is: tests drive it from one thread."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start or SYSTEM.now())
        self._elapsed = 0.0  # what monotonic() counts: advance() and sleep() only

    def __call__(self) -> datetime:
        return self._now.replace(tzinfo=None)

    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._now.timestamp()

    def monotonic(self) -> float:
        return self._elapsed

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock goes forward; set() moves it anywhere")
        self._now += timedelta(seconds=seconds)
        self._elapsed += seconds

    def set(self, moment: datetime) -> None:
        """Put the clock at `moment` (naive: UTC), forward or back: a test of a
        clock that jumped back does this on purpose."""
        self._now = _aware(moment)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
