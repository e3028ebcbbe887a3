"""`monitor run`: the daemon. Due times in a heap, a bounded worker pool.

Each scheduled source is one entry of a heap keyed by its due time (monitor.due);
one loop pops what is due, as many as there are idle workers, and hands them to a
`concurrent.futures` pool: when every worker is busy nothing more is taken, so a
backlog stays in the heap (one entry per source) rather than in a queue. A source
is set due again once its check ends: at its interval, or at the time the check
asked for (`CheckResult.again_at`: learning's second load).

APScheduler keeps the few periodic housekeeping jobs (follow the log, confirmations,
alert dispatch, checkpoints) and the one-shot re-checks of confirmations.

The daemon follows the event log: sources added, reconfigured, paused or
removed (by `monitor add` in another terminal, by a list source's `follow`)
are picked up within seconds without a restart. On SIGTERM or SIGINT it stops
scheduling, gives in-flight checks a few seconds to finish, and exits 0; a
check cut off mid-way has written nothing, because every append is one
transaction.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as CheckPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.check import CHECKABLE, Checker, CheckResult
from monitor.due import DueHeap, DueTimes
from monitor.heartbeat import Vitals
from monitor.moments import utc_iso
from monitor.one_check import run_check
from monitor.store import EventStore
from monitor.store.queries import source_schedule_batches, source_schedules
from monitor.validation import parse_interval

if TYPE_CHECKING:
    from monitor.confirm import Confirmations, Pending

log = logging.getLogger("monitor.daemon")

CATALOG_EVENTS = frozenset({"SourceRegistered", "SourceReconfigured", "SourcePaused",
                            "SourceResumed", "SourceRemoved", "DocumentRemoved"})
ALERTING_OUTCOMES = frozenset({"changed", "published", "removed", "failed"})
RETRIED_OUTCOMES = frozenset({"failed", "error"})  # their log line says when the next try is
SYNC_SECONDS = 2.0
STOP_GRACE_SECONDS = 8.0
CHECKPOINT_SECONDS = 30.0  # how often the daemon asks whether a checkpoint is due
IDLE_WAIT_SECONDS = 1.0  # the due loop's longest sleep when nothing wakes it
YIELD_EVERY = 500  # catalog rows read at the start between two pauses of the reader


@dataclass(frozen=True)
class Schedule:
    interval: int
    kind: str


class Daemon:
    def __init__(
        self,
        store: EventStore,
        checker: Checker | None,
        workers: int,
        dispatch: Callable[[], Any] | None = None,
        dispatch_seconds: float = 5.0,
        first_run_spread: float = 10.0,
        follow_seconds: float = SYNC_SECONDS,
        submit: Callable[[str], object] | None = None,
        confirmations: Confirmations | None = None,
        checkpoint: Callable[[], Any] | None = None,
        due: DueTimes | None = None,
        send: Callable[[str, float], object] | None = None,
        on_result: Callable[[CheckResult], object] | None = None,
    ) -> None:
        if checker is None and submit is None and send is None:
            raise ValueError("a daemon needs a checker or a submit callable")
        self.store = store
        self.checker = checker
        # What happens to a due check: run here, or handed on (`monitor run --distributed`
        # sends it to the queue the workers read). What it returns may carry `again_at`.
        self.submit = submit or self._check_here
        # Or `send(name, due_at)`: the cluster's scheduler tells the workers when it fell due.
        self.send = send or (lambda name, _due_at: self.submit(name))
        self.workers = max(1, workers)
        self.dispatch = dispatch
        self.dispatch_seconds = dispatch_seconds
        self.first_run_spread = first_run_spread
        self.follow_seconds = follow_seconds  # how often the log and the confirmations are read
        # Changes read again after their `confirm` delay (monitor.confirm); they need a
        # checker here: a distributed daemon leaves them to the dispatcher's fallback.
        self.confirmations = confirmations if checker is not None else None
        self.checkpoint = checkpoint  # signs the log when due (monitor.evidence.cadence)
        self.on_result = on_result  # each local check's result (its metrics, when served)
        # Called once the checks are stopped, before the exit (the heartbeat's last beat).
        self.on_stop: Callable[[], object] | None = None
        self.scheduler = BackgroundScheduler(
            executors={"service": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.pool = CheckPool(max_workers=self.workers, thread_name_prefix="check")
        self.due: DueTimes = due if due is not None else DueHeap()
        self.taken = 0  # sources popped from the heap whose check has not ended
        self.wake = threading.Event()  # a worker came free, or a source became due sooner
        self.scheduled: dict[str, Schedule] = {}
        # Settings that could not be scheduled, said once each (until they change).
        self.refused: dict[str, Schedule] = {}
        self.position = 0
        self.stopping = threading.Event()
        self.in_flight = 0
        self.checks = 0  # local checks finished since the start (the heartbeat says it)
        self.last_check_at: datetime | None = None  # naive UTC, as the store's moments
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------
    def run(self) -> int:
        self._install_signal_handlers()
        self.position = self.store.last_position()
        loop = threading.Thread(target=self._due_loop, name="due-loop", daemon=True)
        loop.start()  # checks start with the catalog's first batch
        self._load_catalog()
        self.scheduler.add_job(self._follow_log, "interval", seconds=self.follow_seconds,
                               id="_follow", executor="service")
        if self.confirmations is not None:
            self.scheduler.add_job(self._follow_confirmations, "interval",
                                   seconds=self.follow_seconds,
                                   id="_confirm", executor="service",
                                   next_run_time=datetime.now().astimezone())
        if self.dispatch is not None:
            self.scheduler.add_job(self._dispatch, "interval", seconds=self.dispatch_seconds,
                                   id="_dispatch", executor="service",
                                   next_run_time=datetime.now().astimezone())
        if self.checkpoint is not None:
            self.scheduler.add_job(self._checkpoint, "interval", seconds=CHECKPOINT_SECONDS,
                                   id="_checkpoint", executor="service")
        self.scheduler.start()
        log.info("daemon started sources=%d workers=%d pid=%d: %s", len(self.scheduled),
                 self.workers, os.getpid(),
                 f"first checks within {self.first_run_spread:g}s, then each source on its "
                 "interval; a failed check says when it is tried again" if self.scheduled
                 else "nothing to check yet (`monitor add URL` adds a page; it is picked up "
                 "within seconds)")
        self.stopping.wait()
        self.wake.set()
        return self._stop()

    def _install_signal_handlers(self) -> None:
        stop_on_signals(self.stopping)

    def vitals(self) -> Vitals:
        """What the heartbeat writes (monitor.heartbeat)."""
        with self._lock:
            return Vitals(workers=self.workers, scheduled=len(self.scheduled),
                          in_flight=self.in_flight, checks=self.checks,
                          last_check_at=self.last_check_at)

    def _stop(self) -> int:
        self.scheduler.pause()
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if self.in_flight == 0:
                    break
            time.sleep(0.05)
        with self._lock:
            abandoned = self.in_flight
        self.scheduler.shutdown(wait=False)
        if self.on_stop is not None:
            try:
                self.on_stop()
            except Exception:
                log.exception("stopping: the last heartbeat failed")
        if abandoned:
            log.info("daemon stopped: %d checks abandoned (nothing of them was written)",
                     abandoned)
            logging.shutdown()
            os._exit(0)  # worker threads blocked in I/O must not hold the exit
        log.info("daemon stopped cleanly")
        return 0

    # --- the due loop ------------------------------------------------------
    def _due_loop(self) -> None:
        """Hand due sources to idle workers; never more than there are idle workers."""
        while not self.stopping.is_set():
            now = time.time()
            try:
                with self._lock:
                    idle = self.workers - self.taken
                    taken = self.due.pop_due(now, idle) if idle > 0 else []
                    self.taken += len(taken)
                    next_at = self.due.next_at() if idle > 0 and not taken else None
            except Exception:  # the cluster's Redis away: try again, say it each time
                log.exception("taking the due sources failed; will retry")
                self.stopping.wait(IDLE_WAIT_SECONDS)
                continue
            for name, due_at in taken:
                try:
                    self.pool.submit(self._run_due, name, due_at)
                except RuntimeError:  # the pool is shut down: the daemon is stopping
                    return
            if taken:
                continue
            wait = IDLE_WAIT_SECONDS
            if idle > 0 and next_at is not None:
                wait = min(wait, max(0.0, next_at - now))
            self.wake.wait(wait)
            self.wake.clear()

    def _run_due(self, name: str, due_at: float) -> None:
        result: object = None
        next_at: float | None = None
        try:
            result = self._check(name, due_at)
        finally:
            again_at = getattr(result, "again_at", None)
            with self._lock:
                self.taken -= 1
                schedule = self.scheduled.get(name)
                # Removed or paused while it ran: it is not set again.
                if schedule is not None:
                    try:
                        at = self.due.checked(name, due_at, _parsed_interval(schedule.interval),
                                              None if again_at is None else float(again_at))
                        if getattr(result, "outcome", None) in RETRIED_OUTCOMES:
                            next_at = at
                    except Exception:  # the cluster's Redis: its claim set the next already
                        log.exception("could not reschedule %s", name)
            self.wake.set()
        if next_at is not None:
            # The check's own line says what failed; this one says when it is tried
            # again, so an hour of silence after it is not a mystery.
            log.info("source=%s %s: next try in %s, at %s", name,
                     getattr(result, "outcome", ""), _in(next_at - time.time()),
                     utc_iso(datetime.fromtimestamp(next_at, UTC)))

    # --- jobs --------------------------------------------------------------
    def _check(self, name: str, due_at: float) -> object:
        """Run or send one check; its result (`again_at`: the time learning asked to
        come back, if any; `outcome`), or None."""
        if self.stopping.is_set():
            return None
        with self._lock:
            self.in_flight += 1
        try:
            return self.send(name, due_at)
        except Exception:  # a bug must not kill the worker thread or the daemon
            log.exception("check of %s crashed", name)
            return None
        finally:
            with self._lock:
                self.in_flight -= 1

    def _check_here(self, name: str) -> object:
        assert self.checker is not None
        result = run_check(self.checker, name)  # a crash is an `error` result, never raised
        with self._lock:
            self.checks += 1
            self.last_check_at = self.store.clock()
        if self.on_result is not None:
            self.on_result(result)
        if result.outcome in ALERTING_OUTCOMES and self.dispatch is not None:
            self._wake_dispatch()
        return result

    def _follow_confirmations(self) -> None:
        """A one-shot job for each change to read again after its delay."""
        assert self.confirmations is not None
        try:
            found = self.confirmations.pending()
        except Exception:
            log.exception("finding changes to confirm failed; will retry")
            return
        now = datetime.now(UTC)
        for pending in found:
            when = max(now, pending.due_at.replace(tzinfo=UTC))
            self.scheduler.add_job(self._submit_recheck, "date", run_date=when, args=[pending],
                                   id=f"confirm:{pending.event_id}", executor="service",
                                   replace_existing=True, misfire_grace_time=None)
            log.info("confirmation of change %s of %s due at %s", pending.event_id,
                     pending.stream_id, utc_iso(when))

    def _submit_recheck(self, pending: Pending) -> None:
        """Re-checks share the checks' workers (a few a day: they may wait in line)."""
        try:
            self.pool.submit(self._recheck, pending)
        except RuntimeError:  # stopping: the next start finds it pending
            return

    def _recheck(self, pending: Pending) -> None:
        """Read the page again, then record what became of the change."""
        if self.stopping.is_set() or self.checker is None or self.confirmations is None:
            return  # not recorded: the next start finds it pending
        with self._lock:
            self.in_flight += 1
        try:
            result = self.checker.check(pending.stream_id)
            self.confirmations.settle(pending, result.outcome, result.detail)
            if self.dispatch is not None:
                self._wake_dispatch()
        except Exception:
            log.exception("re-check of change %s crashed", pending.event_id)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _wake_dispatch(self) -> None:
        """Deliver now rather than at the next dispatch tick: alerts are time-critical."""
        try:
            self.scheduler.modify_job("_dispatch", next_run_time=datetime.now().astimezone())
        except Exception:  # the job is gone when the daemon is stopping
            log.debug("dispatch job not found; not woken")

    def _dispatch(self) -> None:
        if self.stopping.is_set() or self.dispatch is None:
            return
        try:
            self.dispatch()
        except Exception:
            log.exception("alert dispatch failed; will retry")

    def _checkpoint(self) -> None:
        if self.stopping.is_set() or self.checkpoint is None:
            return
        try:
            self.checkpoint()
        except Exception:
            log.exception("checkpoint failed; will retry")

    def _follow_log(self) -> None:
        """Reschedule the sources whose catalog events came since the last look."""
        try:
            last, catalog_changed = self.store.types_since(self.position, CATALOG_EVENTS)
            if catalog_changed:
                self._reconcile(since=self.position)
        except Exception:  # the position stays: the same events are read again next time
            log.exception("following the log failed; will retry")
            return
        self.position = max(self.position, last)

    def _load_catalog(self) -> None:
        """At the start: every source, in batches, each batch due (and checked, the
        due loop already running) before the next is read. A tight loop: at a million
        sources (the cluster's scheduler) every microsecond a source is a second."""
        wanted: set[str] = set()
        scheduled = self.scheduled
        shared = getattr(self.due, "thread_safe", False)  # Redis: no need for our lock
        for part in source_schedule_batches(self.store.engine):
            if self.stopping.is_set():  # a signal, or (a scheduler) the lock lost: the
                return  # rest is not ours to schedule, nor `retain` ours to apply
            now = time.time()
            items = []
            for row_number, (name, interval, kind, state) in enumerate(part):
                if row_number % YIELD_EVERY == YIELD_EVERY - 1:
                    # Give the GIL away: the senders and the due loop wait for it
                    # otherwise, a switch interval (5 ms) at each step of each check.
                    time.sleep(0.001)
                if state not in CHECKABLE:
                    continue
                wanted.add(name)
                schedule = _schedule_of(interval, kind)
                try:
                    seconds = _parsed_interval(interval)
                except Exception as exc:
                    self._refuse(name, schedule, exc)
                    self._forget_due(name, shared)  # a last scheduler's entry in Redis
                    continue
                scheduled[name] = schedule
                spread = min(self.first_run_spread, seconds)
                items.append((name, seconds, now + random.uniform(0, spread)))
            if shared:
                self.due.schedule_many(items)
            else:
                with self._lock:
                    self.due.schedule_many(items)
            self.wake.set()
        with self._lock:
            for name in [n for n in scheduled if n not in wanted]:
                del scheduled[name]
        if shared:
            self.due.retain(wanted)  # the cluster's Redis may hold sources gone since
        else:
            with self._lock:
                self.due.retain(wanted)
        for name in [n for n in self.refused if n not in wanted]:
            del self.refused[name]

    def _forget_due(self, name: str, shared: bool) -> None:
        if shared:
            self.due.discard(name)
        else:
            with self._lock:
                self.due.discard(name)

    def _reconcile(self, since: int) -> None:
        """Reschedule the sources with catalog events after log position `since`."""
        rows = source_schedules(self.store.engine, since, CATALOG_EVENTS)
        wanted = {row.name: _schedule_of(row.interval_seconds, row.kind)
                  for row in rows if row.state in CHECKABLE}
        for name in {row.name for row in rows} - set(wanted):
            if name in self.scheduled:
                with self._lock:
                    self.due.discard(name)
                    del self.scheduled[name]
                log.info("unscheduled source=%s", name)
            self.refused.pop(name, None)
        for name, schedule in wanted.items():
            self._want(name, schedule)
        self.wake.set()

    def _want(self, name: str, schedule: Schedule) -> None:
        """Schedule `name` unless it is scheduled so already or its schedule was refused."""
        if self.scheduled.get(name) == schedule:
            self.refused.pop(name, None)  # back to what it was: nothing to say
            return
        if self.refused.get(name) == schedule:
            return
        try:
            self._schedule(name, schedule)
        except Exception as exc:
            self._refuse(name, schedule, exc)
            return
        self.refused.pop(name, None)

    def _refuse(self, name: str, schedule: Schedule, exc: Exception) -> None:
        """A record this daemon cannot apply (an interval written before intervals were
        bounded, by another version, by hand) costs that source, never the daemon and
        the sources added after it; said once until it changes."""
        self.refused[name] = schedule
        kept = " (it keeps its previous schedule)" if name in self.scheduled else ""
        log.error("cannot schedule source=%s: %s%s; fix it with `monitor add URL "
                  "--interval`, or pause it", name, _one_line(exc), kept)

    def _schedule(self, name: str, schedule: Schedule) -> None:
        """Due soon: within the first-run spread."""
        # The bounds `add` and the config enforce; a stored record may predate them.
        interval = _parsed_interval(schedule.interval)
        first = time.time() + random.uniform(0, min(self.first_run_spread, interval))
        rescheduled = name in self.scheduled
        with self._lock:
            self.due.schedule(name, interval, first)
            self.scheduled[name] = schedule
        log.info("%s source=%s interval=%ds",
                 "rescheduled" if rescheduled else "scheduled", name, interval)


def stop_on_signals(stopping: threading.Event) -> None:
    """SIGTERM and SIGINT set `stopping`; the caller winds down cleanly."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s received: stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


_SCHEDULES: dict[tuple[Any, str], Schedule] = {}
_INTERVALS: dict[Any, int] = {}


def _schedule_of(interval: Any, kind: str) -> Schedule:
    """One object per distinct schedule: 100,000 sources share a handful."""
    key = (interval, kind)
    found = _SCHEDULES.get(key)
    if found is None:
        found = _SCHEDULES.setdefault(key, Schedule(interval, kind))
    return found


def _parsed_interval(stored: Any) -> int:
    """parse_interval, once per distinct stored value (a refusal is not kept)."""
    found = _INTERVALS.get(stored)
    if found is None:
        found = parse_interval(stored)
        _INTERVALS[stored] = found
    return found


def _in(seconds: float) -> str:
    """'45s', '12 min', '1 h', '1 h 5 min': how long until the next try."""
    from monitor.alerts.derive import human_duration

    whole = max(0, round(seconds))
    return f"{whole}s" if whole < 60 else human_duration(timedelta(seconds=whole))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
