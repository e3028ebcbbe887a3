"""`monitor worker`: Dramatiq workers that run checks and alert deliveries.

With `--processes 1` the worker runs in this process (so a `kill -9` of this pid is
the death of a worker). With more, Dramatiq's own CLI (`dramatiq.cli.main`, spawned
processes) starts that many worker processes and passes SIGTERM on; when one dies it
stops the others and exits with its code, for the service manager to restart the
whole (`Restart=on-failure`). When `metrics_port` is set, this process serves their
summed metrics. What each worker process holds (the store, the checker, the
heartbeat) comes and goes with the Dramatiq worker, as a middleware (`WorkerLife`),
the same in both ways. Each worker process writes a heartbeat key to Redis every few
seconds (`monitor status` counts them); Dramatiq's own heartbeat decides when a
silent worker's messages go to the others.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import dramatiq

if TYPE_CHECKING:
    from monitor.cluster.tasks import Cluster

log = logging.getLogger("monitor.cluster")

HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL = 60.0  # "seen in the last minute"
STOP_TIMEOUT_SECONDS = 30.0  # for checks in progress at shutdown; the rest are redelivered
OPTIONS_ENV = "MONITOR_WORKER_OPTIONS"  # how `monitor worker` hands its options to Dramatiq's


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker process needs to build itself (plain values: passed to children)."""

    config_path: str | None
    database_url: str | None  # --database override
    threads: int
    log_level: str = "info"
    metrics: bool = True  # serve metrics from this process (False in a child of the CLI)
    metrics_port: int | None = None  # --metrics-port: overrides [cluster] metrics_port
    parent_pid: int | None = None  # a child stops when this process is gone


def run_worker(options: WorkerOptions, processes: int) -> int:
    if processes <= 1:
        return serve(options)
    return run_processes(options, processes)


def serve(options: WorkerOptions) -> int:
    """Run one Dramatiq worker in this process until SIGTERM or SIGINT."""
    from monitor.cluster import metrics
    from monitor.cluster.settings import cluster_settings

    configure_logging(options.log_level)
    port = _metrics_port(options, cluster_settings(_load_config(options)).metrics_port)
    if options.metrics and port is not None:  # first: a taken port is said before connecting
        metrics.serve(port)
    cluster = worker_cluster(options)
    worker = dramatiq.Worker(cluster.broker, worker_threads=options.threads)
    stopping = threading.Event()
    _on_signals(stopping.set)
    worker.start()
    stopping.wait()
    worker.stop(timeout=int(STOP_TIMEOUT_SECONDS * 1000))
    cluster.broker.close()
    return 0


def run_processes(options: WorkerOptions, processes: int) -> int:
    """`processes` worker processes under Dramatiq's CLI, this process its main."""
    from dramatiq.cli import main, make_argument_parser

    from monitor.cluster.settings import cluster_settings

    configure_logging(options.log_level)
    port = _metrics_port(options, cluster_settings(_load_config(options)).metrics_port)
    made: str | None = None
    if port is not None and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Before metrics is imported anywhere: the children inherit the directory.
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="monitor-metrics-")
    child = replace(options, metrics=False, parent_pid=os.getpid())
    os.environ[OPTIONS_ENV] = json.dumps(asdict(child))
    try:
        if port is not None:
            from monitor.cluster import metrics

            metrics.serve(port)  # the children's sum, from their files
        # spawn, not fork: this process holds threads and a store's pooled connections.
        args = make_argument_parser().parse_args([
            "monitor.cluster.actors:broker", "--processes", str(processes),
            "--threads", str(options.threads), "--use-spawn", "--skip-logging",
            "--worker-shutdown-timeout", str(int(STOP_TIMEOUT_SECONDS * 1000)),
        ])
        return int(main(args) or 0)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _metrics_port(options: WorkerOptions, configured: int | None) -> int | None:
    return options.metrics_port if options.metrics_port is not None else configured


def options_from_environment() -> WorkerOptions:
    """In a worker process started by Dramatiq's CLI: the options of `monitor worker`."""
    return WorkerOptions(**json.loads(os.environ[OPTIONS_ENV]))


def worker_cluster(options: WorkerOptions) -> Cluster:
    """The cluster handle of one worker process, its life tied to the Dramatiq worker's."""
    from monitor.cluster.settings import cluster_settings
    from monitor.cluster.tasks import Cluster

    config = _load_config(options)
    cluster = Cluster(config, cluster_settings(config))
    cluster.broker.add_middleware(WorkerLife(cluster, options))
    return cluster


class WorkerLife(dramatiq.Middleware):
    """Opens what the actors need before the worker takes messages, beats while it
    runs (and stops it when its parent is gone), and closes all when it stops."""

    def __init__(self, cluster: Cluster, options: WorkerOptions) -> None:
        self.cluster = cluster
        self.options = options
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.beating: threading.Thread | None = None

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        self.cluster.start_work(threads=self.options.threads)

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        settings = self.cluster.settings
        log.info("worker %s: %d threads on %s (%s)", self.worker_id, self.options.threads,
                 settings.checks_queue, settings.broker_kind)
        self.beating = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self.beating.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        log.info("worker %s stopping", self.worker_id)
        self.stopping.set()
        if self.beating is not None:
            self.beating.join(timeout=5)
        try:
            self.cluster.state.worker_gone(self.worker_id)
        except Exception as exc:
            log.warning("could not clear the worker heartbeat: %s", exc)

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self.cluster.work is not None:
            self.cluster.work.close()
        self.cluster.state.client.close()

    def _beat(self) -> None:
        info = {"id": self.worker_id, "host": socket.gethostname(), "pid": os.getpid(),
                "threads": self.options.threads, "started": time.time(),
                "broker_id": getattr(self.cluster.broker, "broker_id", None)}
        parent = self.options.parent_pid
        next_beat = 0.0
        while not self.stopping.is_set():
            if parent is not None and os.getppid() != parent:
                self._orphaned()
                return
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + HEARTBEAT_SECONDS
                try:
                    self.cluster.state.worker_beat(self.worker_id, {**info, "seen": time.time()},
                                                   HEARTBEAT_TTL)
                except Exception as exc:  # Redis away: Dramatiq's consumers will say so too
                    log.warning("worker heartbeat failed: %s", exc)
            self.stopping.wait(1.0)


    def _orphaned(self) -> None:
        """Dramatiq's main process was killed: nothing else would stop this one."""
        log.error("the main worker process is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)  # Dramatiq's own clean stop
        if self.stopping.wait(STOP_TIMEOUT_SECONDS + 5):
            return
        # Killed while it waited for this process to boot, the main process leaves it
        # blocked for ever in Dramatiq's "booted" Event.set(), where the first SIGTERM
        # only marks it stopping: the second one exits (Dramatiq's RET_KILLED).
        log.error("the worker did not stop: stopping it hard")
        os.kill(os.getpid(), signal.SIGTERM)
        if not self.stopping.wait(10):
            os._exit(1)


def _load_config(options: WorkerOptions) -> Any:
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


def configure_logging(level: str) -> None:
    """The worker's log: basicConfig when nobody configured it yet (Dramatiq's CLI
    has, in its processes), and the level of each logger."""
    from monitor.moments import LogFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(LogFormatter(
        "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"))
    logging.basicConfig(handlers=[handler])
    logging.getLogger().setLevel(getattr(logging, level.upper()))
    for noisy in ("urllib3", "dramatiq", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("monitor.check").setLevel(
        logging.INFO if level == "debug" else logging.WARNING)

