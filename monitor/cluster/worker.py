"""`monitor worker`: Dramatiq workers that run checks and alert deliveries.

With `--processes 1` the worker runs in this process (so a `kill -9` of this pid is
the death of a worker). With more, this process supervises that many children,
restarts one that dies, passes SIGTERM on and, when `metrics_port` is set, serves
their summed metrics. Each worker process writes a heartbeat key to Redis every
few seconds (`monitor status` counts them); Dramatiq's own heartbeat decides when
a silent worker's messages go to the others.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("monitor.cluster")

HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL = 60.0  # "seen in the last minute"
STOP_TIMEOUT_SECONDS = 30.0  # for checks in progress at shutdown; the rest are redelivered
RESTART_DELAY_SECONDS = 2.0


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker process needs to build itself (plain values: passed to children)."""

    config_path: str | None
    database_url: str | None  # --database override
    threads: int
    log_level: str = "info"
    metrics: bool = True  # serve metrics from this process (False in a supervised child)
    parent_pid: int | None = None  # a supervised child stops when this process is gone


def run_worker(options: WorkerOptions, processes: int) -> int:
    if processes <= 1:
        return serve(options)
    return Supervisor(options, processes).run()


def serve(options: WorkerOptions) -> int:
    """Run one Dramatiq worker in this process until SIGTERM or SIGINT."""
    import dramatiq

    from monitor.cluster import metrics
    from monitor.cluster.settings import cluster_settings
    from monitor.cluster.tasks import Cluster

    _configure_logging(options.log_level)
    config = _load_config(options)
    settings = cluster_settings(config)
    cluster = Cluster(config, settings)
    cluster.start_work()
    if options.metrics and settings.metrics_port is not None:
        metrics.serve(settings.metrics_port)
    worker = dramatiq.Worker(cluster.broker, worker_threads=options.threads)
    stopping = threading.Event()
    _on_signals(lambda: stopping.set())
    worker.start()
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    info = {"id": worker_id, "host": socket.gethostname(), "pid": os.getpid(),
            "threads": options.threads, "started": time.time(),
            "broker_id": getattr(cluster.broker, "broker_id", None)}
    log.info("worker %s: %d threads on %s (%s)", worker_id, options.threads,
             settings.checks_queue, settings.broker_kind)
    next_beat = 0.0
    while True:
        if options.parent_pid is not None and os.getppid() != options.parent_pid:
            log.error("the supervising process is gone: stopping")
            break
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + HEARTBEAT_SECONDS
            try:
                cluster.state.worker_beat(worker_id, {**info, "seen": time.time()},
                                          HEARTBEAT_TTL)
            except Exception as exc:  # Redis away: Dramatiq's consumers will say so too
                log.warning("worker heartbeat failed: %s", exc)
        if stopping.wait(1.0):
            break
    log.info("worker %s stopping", worker_id)
    worker.stop(timeout=int(STOP_TIMEOUT_SECONDS * 1000))
    try:
        cluster.state.worker_gone(worker_id)
    except Exception as exc:
        log.warning("could not clear the worker heartbeat: %s", exc)
    cluster.close()
    return 0


class Supervisor:
    """Keeps `processes` worker processes running until told to stop."""

    def __init__(self, options: WorkerOptions, processes: int) -> None:
        self.options = options
        self.processes = processes
        self.stopping = threading.Event()
        self.children: list[Any] = []

    def run(self) -> int:
        _configure_logging(self.options.log_level)
        port = self._metrics_port()
        made: str | None = None
        if port is not None and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Before metrics is imported anywhere: the children inherit the directory.
            made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
                prefix="monitor-metrics-")
        if port is not None:
            from monitor.cluster import metrics

            metrics.serve(port)
        try:
            return self._supervise()
        finally:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)

    def _supervise(self) -> int:
        context = multiprocessing.get_context("spawn")
        child_options = WorkerOptions(self.options.config_path, self.options.database_url,
                                      self.options.threads, self.options.log_level,
                                      metrics=False, parent_pid=os.getpid())
        _on_signals(lambda: self.stopping.set())
        self.children = [self._start(context, child_options) for _ in range(self.processes)]
        log.info("supervising %d worker processes", self.processes)
        while not self.stopping.wait(0.5):
            for index, child in enumerate(self.children):
                if child.is_alive():
                    continue
                self._exited(child)
                log.error("worker process %d exited with %s: restarting it", child.pid,
                          child.exitcode)
                if self.stopping.wait(RESTART_DELAY_SECONDS):
                    break
                self.children[index] = self._start(context, child_options)
        for child in self.children:
            if child.is_alive():
                child.terminate()  # SIGTERM: finish in-flight checks, hand back the rest
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS + 5
        for child in self.children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join()
            self._exited(child)
        return 0

    def _start(self, context: Any, options: WorkerOptions) -> Any:
        child = context.Process(target=_child_main, args=(options,), name="monitor-worker")
        child.start()
        return child

    def _exited(self, child: Any) -> None:
        if child.pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from monitor.cluster import metrics

            metrics.process_exited(child.pid)

    def _metrics_port(self) -> int | None:
        from monitor.cluster.settings import cluster_settings

        return cluster_settings(_load_config(self.options)).metrics_port


def _child_main(options: WorkerOptions) -> None:
    raise SystemExit(serve(options))


def _load_config(options: WorkerOptions) -> Any:
    from dataclasses import replace

    from monitor.config import load_config

    config = load_config(options.config_path)
    if options.database_url:
        config = replace(config, database_url=options.database_url)
    return config


def _on_signals(stop: Any) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s received: stopping", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()),
                        format="%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s")
    for noisy in ("urllib3", "dramatiq", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("monitor.check").setLevel(
        logging.INFO if level == "debug" else logging.WARNING)
