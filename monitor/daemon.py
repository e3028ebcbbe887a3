"""`monitor run`: the daemon. One APScheduler job per source, a bounded worker pool.

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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.check import CHECKABLE, Checker
from monitor.one_check import run_check
from monitor.store import EventStore
from monitor.store.queries import list_sources
from monitor.validation import parse_interval

if TYPE_CHECKING:
    from monitor.confirm import Confirmations, Pending

log = logging.getLogger("monitor.daemon")

CATALOG_EVENTS = frozenset({"SourceRegistered", "SourceReconfigured", "SourcePaused",
                            "SourceResumed", "SourceRemoved", "DocumentRemoved"})
ALERTING_OUTCOMES = frozenset({"changed", "published", "removed", "failed"})
SYNC_SECONDS = 2.0
STOP_GRACE_SECONDS = 8.0
CHECKPOINT_SECONDS = 30.0  # how often the daemon asks whether a checkpoint is due


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
        submit: Callable[[str], None] | None = None,
        confirmations: Confirmations | None = None,
        checkpoint: Callable[[], Any] | None = None,
    ) -> None:
        if checker is None and submit is None:
            raise ValueError("a daemon needs a checker or a submit callable")
        self.store = store
        self.checker = checker
        # What happens to a due check: run here, or handed on (`monitor run --distributed`
        # sends it to the queue the workers read).
        self.submit = submit or self._check_here
        self.workers = max(1, workers)
        self.dispatch = dispatch
        self.dispatch_seconds = dispatch_seconds
        self.first_run_spread = first_run_spread
        self.follow_seconds = follow_seconds  # how often the log and the confirmations are read
        # Changes read again after their `confirm` delay (monitor.confirm); they need a
        # checker here: a distributed daemon leaves them to the dispatcher's fallback.
        self.confirmations = confirmations if checker is not None else None
        self.checkpoint = checkpoint  # signs the log when due (monitor.evidence.cadence)
        self.scheduler = BackgroundScheduler(
            executors={"checks": ThreadPoolExecutor(max_workers=self.workers),
                       "service": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduled: dict[str, Schedule] = {}
        # Settings that could not be scheduled, said once each (until they change).
        self.refused: dict[str, Schedule] = {}
        self.position = 0
        self.stopping = threading.Event()
        self.in_flight = 0
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------
    def run(self) -> int:
        self._install_signal_handlers()
        self.position = self.store.last_position()
        self._reconcile()
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
        log.info("daemon started sources=%d workers=%d pid=%d", len(self.scheduled),
                 self.workers, os.getpid())
        self.stopping.wait()
        return self._stop()

    def _install_signal_handlers(self) -> None:
        stop_on_signals(self.stopping)

    def _stop(self) -> int:
        self.scheduler.pause()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if self.in_flight == 0:
                    break
            time.sleep(0.05)
        with self._lock:
            abandoned = self.in_flight
        self.scheduler.shutdown(wait=False)
        if abandoned:
            log.info("daemon stopped: %d checks abandoned (nothing of them was written)",
                     abandoned)
            logging.shutdown()
            os._exit(0)  # worker threads blocked in I/O must not hold the exit
        log.info("daemon stopped cleanly")
        return 0

    # --- jobs --------------------------------------------------------------
    def _check(self, name: str) -> None:
        if self.stopping.is_set():
            return
        with self._lock:
            self.in_flight += 1
        try:
            self.submit(name)
        except Exception:  # a bug must not kill the worker thread or the daemon
            log.exception("check of %s crashed", name)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _check_here(self, name: str) -> None:
        assert self.checker is not None
        result = run_check(self.checker, name)  # a crash is an `error` result, never raised
        if result.outcome in ALERTING_OUTCOMES and self.dispatch is not None:
            self._wake_dispatch()

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
            self.scheduler.add_job(self._recheck, "date", run_date=when, args=[pending],
                                   id=f"confirm:{pending.event_id}", executor="checks",
                                   replace_existing=True, misfire_grace_time=None)
            log.info("confirmation of change %s of %s due at %s", pending.event_id,
                     pending.stream_id, when.isoformat(timespec="seconds"))

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
        """Reconcile jobs when the catalog changed (new, paused, removed sources)."""
        try:
            last, catalog_changed = self.store.types_since(self.position, CATALOG_EVENTS)
            if catalog_changed:
                self._reconcile()
        except Exception:  # the position stays: the same events are read again next time
            log.exception("following the log failed; will retry")
            return
        self.position = max(self.position, last)

    def _reconcile(self) -> None:
        wanted = {row.name: Schedule(row.interval_seconds, row.kind)
                  for row in list_sources(self.store.engine) if row.state in CHECKABLE}
        for name in set(self.scheduled) - set(wanted):
            self.scheduler.remove_job(_job_id(name))
            del self.scheduled[name]
            log.info("unscheduled source=%s", name)
        for name in set(self.refused) - set(wanted):
            del self.refused[name]
        for name, schedule in wanted.items():
            if self.scheduled.get(name) == schedule:
                self.refused.pop(name, None)  # back to what it was: nothing to say
                continue
            if self.refused.get(name) == schedule:
                continue
            try:
                self._schedule(name, schedule)
            except Exception as exc:
                # A record this daemon cannot apply (an interval written before intervals
                # were bounded, by another version, by hand) costs that source, never
                # the daemon and the sources added after it.
                self.refused[name] = schedule
                kept = " (it keeps its previous schedule)" if name in self.scheduled else ""
                log.error("cannot schedule source=%s: %s%s; fix it with `monitor add URL "
                          "--interval`, or pause it", name, _one_line(exc), kept)
                continue
            self.refused.pop(name, None)

    def _schedule(self, name: str, schedule: Schedule) -> None:
        # The bounds `add` and the config enforce; a stored record may predate them.
        interval = parse_interval(schedule.interval)
        spread = min(self.first_run_spread, interval)
        first = datetime.now().astimezone() + timedelta(seconds=random.uniform(0, spread))
        self.scheduler.add_job(
            self._check, IntervalTrigger(seconds=interval, jitter=min(60, interval // 10)),
            args=[name], id=_job_id(name), executor="checks", replace_existing=True,
            next_run_time=first, misfire_grace_time=max(1, interval),
        )
        log.info("%s source=%s interval=%ds",
                 "rescheduled" if name in self.scheduled else "scheduled", name, interval)
        self.scheduled[name] = schedule


def stop_on_signals(stopping: threading.Event) -> None:
    """SIGTERM and SIGINT set `stopping`; the caller winds down cleanly."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s received: stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _job_id(name: str) -> str:
    return f"check:{name}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
