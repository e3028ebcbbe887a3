"""A pass comes back to a half-learned source at its again_at, and meanwhile its
threads take the other sources (runner.Revisits, issue 13)."""

from __future__ import annotations

import time

from monitor.learning import FirstLoads
from monitor.runner import Revisits


def test_a_name_due_later_lets_the_others_go_first_then_comes_back() -> None:
    pending = Revisits(["a", "b", "c"])
    assert pending.take() == "a"
    due = time.time() + 0.2
    assert pending.done("a", due) is True  # half done: back at again_at
    assert pending.take() == "b"  # not waiting for a
    assert pending.done("b", None) is False
    assert pending.take() == "c"
    assert pending.done("c", None) is False
    assert pending.take() == "a"  # nothing else left: waits for a's time, then a
    assert time.time() >= due
    assert pending.done("a", None) is False
    assert pending.take() is None  # all done


def test_a_due_name_goes_before_a_new_one_and_comes_back_a_bounded_number_of_times() -> None:
    pending = Revisits(["a", "b"])
    assert pending.take() == "a"
    assert pending.done("a", time.time() - 1) is True  # due already
    assert pending.take() == "a"  # before b: few first loads wait at once
    for _ in range(Revisits.MAX_REVISITS - 1):
        assert pending.done("a", time.time() - 1) is True
        assert pending.take() == "a"
    assert pending.done("a", time.time() - 1) is False  # taken as it ended
    assert pending.take() == "b"
    pending.stop()
    assert pending.take() is None


def test_first_loads_are_bounded_and_too_old_ones_are_not_used() -> None:
    loads = FirstLoads(max_pages=2, max_age=10)
    loads.keep("a", "<p>a</p>", at=100.0)
    loads.keep("b", "<p>b</p>", at=101.0)
    loads.keep("c", "<p>c</p>", at=102.0)  # the oldest, a, goes
    assert loads.get("a", now=103.0) is None
    first = loads.get("b", now=103.0)
    assert first is not None and first.text == "<p>b</p>"
    assert loads.get("c", now=113.0) is None  # 11 s old: what changed may be news
    assert len(loads) == 1
