"""Prometheus metrics, served on a port when one is given: `--metrics-port` on `monitor
run` (with or without `--distributed`) and `monitor worker`, else `[cluster]
metrics_port` for the cluster's processes. Each process takes its own port, so a
scheduler and a worker share a host.

A `monitor worker --processes N` parent serves the sum of its children (prometheus
client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR must be set before this module
is imported, which `monitor.cluster.worker` does). Names follow Prometheus usage:
counters end in _total, durations are in seconds. Labelled counters have a series for
every known label value from the start, at 0, so a rate() or an alert rule has
something to read before the first failure of a kind. The gauges only the scheduler
knows are made by `scheduler_gauges()`, so a worker's /metrics does not carry them.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from monitor.errors import UsageError

if TYPE_CHECKING:
    from monitor.check import CheckResult

log = logging.getLogger("monitor.cluster")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LAG = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)

CHECKS = Counter("monitor_checks_total", "Checks finished, by outcome.", ["outcome"])
CHANGES = Counter("monitor_changes_total", "Changes recorded (ChangeDetected), by significance.",
                  ["significance"])
FAILURES = Counter("monitor_check_failures_total",
                   "Checks that could not read the page, by failure kind.", ["kind"])
CHECK_SECONDS = Histogram("monitor_check_seconds", "Duration of one whole check.",
                          buckets=_LATENCY)
FETCH_SECONDS = Histogram("monitor_fetch_seconds", "Duration of one HTTP request, body included.",
                          buckets=_LATENCY)
HOST_WAIT_SECONDS = Histogram("monitor_host_wait_seconds",
                              "Time a request waited for its host's cluster-wide slot and turn.",
                              buckets=_LATENCY)
QUEUE_LAG_SECONDS = Histogram("monitor_queue_lag_seconds",
                              "From a check falling due to a worker starting it.", buckets=_LAG)
ENQUEUED = Counter("monitor_checks_enqueued_total", "Checks sent to the queue by the scheduler.")
SKIPPED = Counter("monitor_checks_already_queued_total",
                  "Due checks not sent because the source's previous one still waits.")
ALERTS_DELIVERED = Counter("monitor_alerts_delivered_total", "Alert deliveries that succeeded.")
ALERTS_DEAD = Counter("monitor_alerts_dead_total", "Alert deliveries given up (dead-lettered).")


def _known_series() -> None:
    """Every labelled counter's known series, at 0."""
    from monitor.check import CHECK_OUTCOMES
    from monitor.classify import HIGH, LOW, MEDIUM
    from monitor.errors import FETCH_FAILURE_KINDS

    for outcome in CHECK_OUTCOMES:
        CHECKS.labels(outcome)
    for significance in (LOW, MEDIUM, HIGH, "unknown"):
        CHANGES.labels(significance)
    for kind in (*FETCH_FAILURE_KINDS, "unknown"):
        FAILURES.labels(kind)


_known_series()


@dataclass(frozen=True)
class SchedulerGauges:
    active: Gauge
    queue_depth: Gauge


@functools.cache
def scheduler_gauges() -> SchedulerGauges:
    """The scheduler's gauges, registered by the first call: only a scheduler calls."""
    return SchedulerGauges(
        active=Gauge("monitor_scheduler_active",
                     "1 while this process is the active scheduler, 0 on standby.",
                     multiprocess_mode="max"),
        queue_depth=Gauge("monitor_queue_depth",
                          "Checks waiting in the queue (seen by the scheduler).",
                          multiprocess_mode="max"))


def observe_check(result: CheckResult) -> None:
    """A finished check's counters and duration (a worker's, or the local daemon's)."""
    CHECKS.labels(result.outcome).inc()
    CHECK_SECONDS.observe(result.ms / 1000)
    if result.outcome == "changed":
        CHANGES.labels(result.significance or "unknown").inc()
    elif result.outcome in ("failed", "removed"):
        FAILURES.labels(result.detail.partition(":")[0] or "unknown").inc()


def serve(port: int, option: str = "--metrics-port") -> int:
    """Start the /metrics server on `port` (0: any free port); returns the port. A port
    in use is a UsageError naming it and `option`, the way to choose another."""
    registry: Any = None
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    try:
        server, _thread = (start_http_server(port, registry=registry) if registry is not None
                           else start_http_server(port))
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        why = "in use" if exc.errno == errno.EADDRINUSE else "not allowed"
        raise UsageError(f"metrics port {port} is {why} (another process serves it?): "
                         f"give this process its own with {option} PORT") from None
    bound = int(server.server_address[1])
    log.info("metrics on http://0.0.0.0:%d/metrics", bound)
    return bound

