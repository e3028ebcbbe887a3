"""Due times: the local daemon's heap (monitor.due) and what the daemon does with it."""

from __future__ import annotations

import threading
import time

from daemon_helpers import wait_for

from monitor.catalog import pause, register
from monitor.check import CheckResult
from monitor.config import SourceConfig
from monitor.daemon import Daemon
from monitor.due import DueHeap


def test_the_heap_gives_due_sources_earliest_first_and_no_more_than_asked() -> None:
    heap = DueHeap()
    for name, at in (("c", 30.0), ("a", 10.0), ("b", 20.0), ("later", 99.0)):
        heap.set(name, at)
    assert heap.next_at() == 10.0
    assert heap.pop_due(now=25.0, limit=1) == [("a", 10.0)]
    assert heap.pop_due(now=25.0, limit=5) == [("b", 20.0)]  # c is not due yet
    assert heap.pop_due(now=50.0, limit=5) == [("c", 30.0)]
    assert len(heap) == 1 and "a" not in heap and "later" in heap


def test_moving_or_removing_a_source_leaves_no_stale_entry_to_pop() -> None:
    heap = DueHeap()
    heap.set("moved", 10.0)
    heap.set("moved", 40.0)  # reconfigured: its old entry must not fire
    heap.set("paused", 5.0)
    heap.discard("paused")
    heap.discard("never-there")
    assert heap.next_at() == 40.0 and heap.due_at("moved") == 40.0
    assert heap.pop_due(now=30.0, limit=10) == []
    assert heap.pop_due(now=40.0, limit=10) == [("moved", 40.0)]
    assert heap.next_at() is None and len(heap) == 0
    for round_ in range(500):  # many moves: the heap is compacted, not grown without end
        heap.set("busy", float(round_))
    assert len(heap._heap) <= 2 * len(heap) + 64


class _ThreadDaemon(Daemon):
    def _install_signal_handlers(self) -> None:
        pass


def _source(store, name: str) -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name=name, url=f"http://127.0.0.1:9/{name}", kind="html",
                                 interval_seconds=3600))


def test_the_daemon_honours_again_at_and_takes_no_more_than_its_idle_workers(
    store,  # type: ignore[no-untyped-def]
) -> None:
    _source(store, "learner")
    release = threading.Event()
    calls: list[tuple[str, float]] = []

    def calls_of(name: str) -> list[float]:
        return [at for n, at in calls if n == name]

    def submit(name: str) -> CheckResult:
        calls.append((name, time.time()))
        if name == "learner":  # learning half done: come back in 0.3 s, not in an hour
            again = time.time() + 0.3 if len(calls_of("learner")) == 1 else None
            return CheckResult(name, "captured", again_at=again)
        release.wait(10)  # the others hold the workers
        return CheckResult(name, "unchanged")

    daemon = _ThreadDaemon(store, None, workers=2, submit=submit, first_run_spread=0.05,
                           follow_seconds=0.2)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(calls_of("learner")) == 2, 10, "the learner's second load")
        first, second = calls_of("learner")
        assert 0.25 <= second - first < 5.0
        for name in ("a", "b", "c"):
            _source(store, name)
        wait_for(lambda: len(calls) == 4, 10, "two of the new sources")
        time.sleep(0.2)
        # Both workers are held: the third source waits in the heap, not in a queue.
        assert len(calls) == 4 and daemon.taken == 2
        assert len(daemon.due) == 2  # the learner (in an hour) and the one waiting
        (waiting,) = {"a", "b", "c"} - {n for n, _ in calls}
        pause(store, waiting)
        wait_for(lambda: waiting not in daemon.scheduled, 5, "the pause")
        release.set()
        wait_for(lambda: daemon.taken == 0, 5, "the held checks")
        time.sleep(0.3)
        assert not calls_of(waiting)  # paused while it waited: never checked
        assert len(calls_of("learner")) == 2  # then its interval: an hour
    finally:
        release.set()  # nothing left in flight: a stop with checks abandoned exits the process
        daemon.stopping.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
