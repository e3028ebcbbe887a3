"""The injected clock: the system's reads the machine, a manual one moves when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.clock import SYSTEM, Clock, ManualClock
from monitor.store.eventstore import utcnow


def test_the_system_clock_gives_the_store_naive_utc_and_people_aware_utc() -> None:
    before = utcnow()
    naive, aware = SYSTEM(), SYSTEM.now()
    assert naive.tzinfo is None and before <= naive <= utcnow()
    assert aware.tzinfo is UTC and abs(aware.replace(tzinfo=None) - naive) < timedelta(seconds=5)
    assert abs(SYSTEM.time() - aware.timestamp()) < 5
    assert isinstance(SYSTEM, Clock) and isinstance(ManualClock(), Clock)


def test_a_manual_clock_moves_only_when_told_and_sleeps_at_once() -> None:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0))
    assert clock() == datetime(2026, 3, 1, 12, 0) and clock.now().tzinfo is UTC
    assert clock() == clock()  # no time passes by itself
    clock.sleep(90)
    clock.advance(0.5)
    assert clock() == datetime(2026, 3, 1, 12, 1, 30, 500000)
    assert (clock.monotonic(), clock.time()) == (90.5, clock.now().timestamp())
    clock.set(datetime(2026, 2, 1))  # back, on purpose: the monotonic count stays
    assert clock() == datetime(2026, 2, 1) and clock.monotonic() == 90.5
    with pytest.raises(ValueError):
        clock.advance(-1)
