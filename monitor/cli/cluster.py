"""Commands of the cluster: `monitor worker`, `monitor run --distributed`, and the cluster's
part of `monitor status` (monitor.cli.status)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, metrics_port_option, pass_app
from monitor.moments import human


@cli.command()
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes on this machine.")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Checks at once in each process (default from config: 8).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info",
              show_default=True)
@metrics_port_option
@pass_app
def worker(app: AppContext, processes: int, threads: int | None, log_level: str,
           metrics_port: int | None) -> None:
    """Run checks (and alert deliveries) sent by `monitor run --distributed`.

    Start as many as you like, on as many machines: they share the queue from
    [cluster] broker_url and the database. Stops cleanly on SIGTERM or Ctrl-C,
    finishing the checks in progress; the rest go to the other workers.
    """
    from monitor.cluster.settings import cluster_settings, libpq_url
    from monitor.cluster.worker import WorkerOptions, run_worker

    cluster_settings(app.config)  # a bad [cluster] table is one clear line, here
    libpq_url(app.url)
    app.store()  # the schema must be current before workers write to it
    options = WorkerOptions(config_path=app.config_path, database_url=app.database_url,
                            threads=threads or app.config.workers, log_level=log_level,
                            metrics_port=metrics_port)
    raise click.exceptions.Exit(run_worker(options, processes))


def cluster_status(app: AppContext) -> Any:
    """The cluster's figures for `monitor status` (monitor.cli.status), from its Redis,
    its broker and the store; an unreachable Redis or broker is one clear line."""
    from monitor.cluster.settings import cluster_settings
    from monitor.cluster.status import gather
    from monitor.cluster.tasks import Cluster

    cluster = Cluster(app.config, cluster_settings(app.config))
    try:
        return gather(cluster, app.store(read_only=True).engine)
    except Exception as exc:
        if _is_connection_error(exc):
            from monitor.errors import MonitorError

            raise MonitorError(f"cannot reach the cluster's Redis or broker: {exc}") from exc
        raise
    finally:
        cluster.close()


def print_cluster_status(report: Any, zone: str) -> None:
    q = report.checks_queue
    taken = "" if q.taken < 0 else f", {q.taken} being checked"
    click.echo(f"cluster {report.namespace} ({report.broker})")
    click.echo(f"queue: {q.ready} checks waiting{taken}, {q.delayed} to retry, {q.dead} dead; "
               f"{report.alerts_waiting} alert runs waiting")
    s = report.scheduler
    if s is None:
        click.echo("scheduler: none active (start `monitor run --distributed`)")
    else:
        since = human(datetime.fromtimestamp(s["since"], UTC), zone)
        click.echo(f"scheduler: {s['id']}, active since {since}, "
                   f"seen {report.at - s['seen']:.0f}s ago")
    click.echo(f"workers seen in the last minute: {len(report.workers)}")
    for w in report.workers:
        click.echo(f"  {w['id']}: {w['threads']} threads, up {_duration(report.at - w['started'])}")
    now = report.this_minute
    click.echo(f"checks: {report.checks_last_minute} in the last whole minute, "
               f"{report.checks_per_minute:.1f}/min over {len(report.minutes)} minutes, "
               f"{sum(v for k, v in now.items() if k != 'minute')} so far this minute")
    outcomes = Counter[str]()
    for minute in [*report.minutes, now]:
        outcomes.update({k: v for k, v in minute.items() if k != "minute"})
    if outcomes:
        click.echo("  by outcome: " + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))
    oldest = report.oldest_due
    if oldest is None:
        click.echo(f"oldest due check: none waiting ({report.queued_sources} queued)")
    else:
        click.echo(f"oldest due check: {oldest['source']}, due {oldest['waiting']:.0f}s ago "
                   f"({report.queued_sources} sources queued)")
    click.echo(f"failing sources: {report.failing_count} (listed below)")


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _is_connection_error(exc: Exception) -> bool:
    import redis

    try:
        import pika.exceptions

        amqp: tuple[type[Exception], ...] = (pika.exceptions.AMQPConnectionError,)
    except ImportError:  # pragma: no cover - pika comes with dramatiq[rabbitmq]
        amqp = ()
    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, *amqp))


# --- `monitor run --distributed` -------------------------------------------------
# `run --distributed` (monitor/cli/daemon.py) hands its checks to the cluster here.

def run_distributed(app: AppContext, workers: int | None, log_level: str,
                    metrics_port: int | None = None) -> None:
    from monitor.bootstrap import sync_configured_sources
    from monitor.cluster import metrics
    from monitor.cluster.scheduler import SchedulerRole
    from monitor.cluster.settings import cluster_settings, libpq_url
    from monitor.cluster.tasks import Cluster

    settings = cluster_settings(app.config)
    libpq_url(app.url)
    from monitor.cli.daemon import configure_logging

    configure_logging(log_level)
    store = app.store()
    sync_configured_sources(store, app.config)
    port = metrics_port if metrics_port is not None else settings.metrics_port
    if port is not None:
        metrics.serve(port)
        metrics.scheduler_gauges().active.set(0)  # a standby says so from the start
    cluster = Cluster(app.config, settings)
    role = SchedulerRole(store, cluster, app.url, threads=min(8, workers or 4))
    from monitor.cli.daemon import web_app

    served = web_app(app, store)  # every scheduler, active or standby, serves the app
    started = time.monotonic()
    try:
        code = role.run()
    finally:
        cluster.close()
        if served is not None:
            served.stop()
    click.echo(f"scheduler stopped after {_duration(time.monotonic() - started)}", err=True)
    raise click.exceptions.Exit(code)
