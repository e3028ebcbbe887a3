"""The two kinds of message a cluster carries, and what a worker does with each.

    check(source_name, due_at)   check one source; due_at is when the scheduler found
                                 it due (Unix seconds), for the queue-lag figures
    deliver_alerts()             one Dispatcher.run_once(): outbox -> channels; sent by
                                 the scheduler every few seconds and by a worker right
                                 after a check that may alert (one waits at most)

A check may be delivered twice (a redelivery after a worker died, a retry, a
duplicate): that is harmless, because a check that finds what the log already
holds writes nothing, and two racing checks of one source append once (optimistic
concurrency on the stream's version). Alert deliveries are claimed row by row in
the outbox, so two runs at once never send one alert twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
from dramatiq.middleware import TimeLimitExceeded
from dramatiq.rate_limits.backends import RedisBackend

from monitor.check import CheckResult
from monitor.cluster import metrics
from monitor.cluster.broker import make_broker
from monitor.cluster.politeness import ClusterFetcher, ClusterPoliteness, local_settings
from monitor.cluster.settings import ClusterSettings
from monitor.cluster.state import ClusterState, redis_client
from monitor.config import Config
from monitor.daemon import ALERTING_OUTCOMES
from monitor.one_check import build_checker, fetch_settings, run_check
from monitor.store import open_store

log = logging.getLogger("monitor.cluster")

CHECK_PRIORITY = 10  # Dramatiq runs lower numbers first: alert runs before checks
ALERTS_PRIORITY = 0
STALE_QUEUED_SECONDS = 600.0  # a check queued longer than this is taken for lost
LEASE_MIN_SECONDS = 5.0


class Cluster:
    """One process's handle on the cluster: the broker, the actors, the shared state.

    The scheduler only sends; a worker also calls `start_work()` so that the
    actors can run (opening the store, the checker and the alert dispatcher).
    """

    def __init__(self, config: Config, settings: ClusterSettings) -> None:
        self.config = config
        self.settings = settings
        self.broker = make_broker(settings)
        self.state = ClusterState(redis_client(settings.redis_url), settings.namespace)
        self.work: Work | None = None
        self.check = dramatiq.actor(
            actor_name="check", queue_name=settings.checks_queue,
            priority=CHECK_PRIORITY, broker=self.broker,
            time_limit=int(settings.time_limit * 1000), max_retries=settings.max_retries,
            throws=(TimeLimitExceeded,),  # a hung page waits for its next interval
        )(self._check)
        self.deliver_alerts = dramatiq.actor(
            actor_name="deliver_alerts", queue_name=settings.alerts_queue,
            priority=ALERTS_PRIORITY, broker=self.broker,
            time_limit=int(settings.time_limit * 1000), max_retries=0,
        )(self._deliver_alerts)

    # --- sending (the scheduler) ------------------------------------------------
    def send_check(self, source: str, due_at: float | None = None) -> bool:
        """Queue a check of `source` unless one is queued already; True if sent."""
        due_at = time.time() if due_at is None else due_at
        stale_after = max(STALE_QUEUED_SECONDS, 2 * self.settings.redeliver_after)
        if not self.state.mark_queued(source, due_at, stale_after):
            metrics.SKIPPED.inc()
            return False
        try:
            self.check.send(source, due_at)
        except Exception:
            self.state.unmark_queued(source)
            raise
        metrics.ENQUEUED.inc()
        return True

    def send_alert_run(self) -> bool:
        """Queue one alert-delivery run unless one is waiting already."""
        if not self.state.queue_alert_run(ttl=max(60.0, self.settings.time_limit)):
            return False
        self.deliver_alerts.send()
        return True

    # --- working (a worker process) ----------------------------------------------
    def start_work(self, threads: int | None = None, **checker_options: Any) -> Work:
        """`threads`: the worker's threads, each running checks (sizes the pool)."""
        self.work = Work(self.config, self.settings, self.state, threads=threads,
                         **checker_options)
        return self.work

    def _check(self, source: str, due_at: float) -> None:
        if self.work is None:
            raise RuntimeError("this process does not run checks (start_work() not called)")
        result = self.work.check(source, due_at)
        if self.config.alerts and result.outcome in ALERTING_OUTCOMES:
            try:  # deliver now rather than at the scheduler's next tick
                self.send_alert_run()
            except Exception as exc:  # the scheduler's tick will ask again
                log.warning("could not queue an alert run: %s", exc)

    def _deliver_alerts(self) -> None:
        if self.work is None:
            raise RuntimeError("this process does not deliver alerts (start_work() not called)")
        self.work.deliver_alerts()

    def close(self) -> None:
        if self.work is not None:
            self.work.close()
        self.broker.close()
        self.state.client.close()


class Work:
    """What one worker process holds to run messages: store, checker, dispatcher."""

    def __init__(self, config: Config, settings: ClusterSettings, state: ClusterState,
                 threads: int | None = None, **checker_options: Any) -> None:
        self.state = state
        self.store = open_store(config.database_url, threads=threads or config.workers)
        self.politeness = ClusterPoliteness(
            RedisBackend(client=state.client), settings.namespace,
            limit=settings.max_concurrent_per_host, min_delay=settings.min_delay_per_host,
            lease_seconds=max(LEASE_MIN_SECONDS, settings.redeliver_after),
            on_wait=metrics.HOST_WAIT_SECONDS.observe, on_request=metrics.FETCH_SECONDS.observe,
        )
        fetcher = ClusterFetcher(
            local_settings(fetch_settings(config), settings.max_concurrent_per_host),
            self.politeness)
        self.checker = build_checker(config, self.store, fetcher=fetcher, **checker_options)
        self.dispatcher = _dispatcher(self.store, config)

    def check(self, source: str, due_at: float) -> CheckResult:
        metrics.QUEUE_LAG_SECONDS.observe(max(0.0, time.time() - due_at))
        # A crash is an `error` result (monitor.one_check); what escapes is the time
        # limit (or the worker stopping), and the message is then retried.
        outcome = "crashed"
        try:
            result = run_check(self.checker, source)
            outcome = result.outcome
            if result.again_at is not None:  # learning half done: come back then
                try:
                    self.state.due_times().again(source, result.again_at)
                except Exception as exc:  # it comes back at its interval instead
                    log.warning("could not move the next check of %s: %s", source, exc)
        finally:
            try:
                self.state.check_done(source, outcome)
            except Exception as exc:  # only figures are lost; the check is recorded
                log.warning("could not count the check of %s: %s", source, exc)
        metrics.observe_check(result)
        if outcome != "unchanged":
            log.info("check source=%s outcome=%s ms=%d%s", source, outcome, result.ms,
                     f" detail={result.detail!r}" if result.detail else "")
        return result

    def deliver_alerts(self) -> None:
        self.state.alert_run_started()
        if self.dispatcher is None:
            return
        summary = self.dispatcher.run_once()
        metrics.ALERTS_DELIVERED.inc(summary.delivered)
        metrics.ALERTS_DEAD.inc(summary.dead)
        if summary.attempted or summary.enqueued:
            log.info("alerts: %s", summary)

    def close(self) -> None:
        self.checker.fetcher.close()
        self.store.engine.dispose()


def _dispatcher(store: Any, config: Config) -> Any:
    if not config.alerts:
        return None
    from monitor.alerts import Dispatcher

    return Dispatcher(store, config)
