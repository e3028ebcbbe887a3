"""Prometheus metrics of both roles, served on `[cluster] metrics_port` when it is set.

A `monitor worker --processes N` parent serves the sum of its children (prometheus
client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR must be set before this module
is imported, which `monitor.cluster.worker` does). Names follow Prometheus usage:
counters end in _total, durations are in seconds.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

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
SCHEDULER_ACTIVE = Gauge("monitor_scheduler_active",
                         "1 while this process is the active scheduler, 0 on standby.",
                         multiprocess_mode="max")
QUEUE_DEPTH = Gauge("monitor_queue_depth", "Checks waiting in the queue (seen by the scheduler).",
                    multiprocess_mode="max")


def serve(port: int) -> int:
    """Start the /metrics server on `port` (0: any free port); returns the port."""
    registry: Any = None
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    server, _thread = (start_http_server(port, registry=registry) if registry is not None
                       else start_http_server(port))
    bound = int(server.server_address[1])
    log.info("metrics on http://0.0.0.0:%d/metrics", bound)
    return bound

