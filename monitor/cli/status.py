"""`monitor status`: is the daemon running, when was each source last checked, when is
it next due, what fails and what is late. With [cluster], the cluster's own figures
(monitor.cli.cluster) come first."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.moments import human
from monitor.status import DaemonStatus, LocalStatus, SourceStatus, gather
from monitor.store.eventstore import utcnow
from monitor.untrusted import one_line

ERROR_CHARS = 160


@cli.command()
@click.option("--limit", type=click.IntRange(0), default=50, show_default=True,
              help="Sources listed beside the failing and the late ones (0: all). "
                   "--format json lists all.")
@format_option
@pass_app
def status(app: AppContext, limit: int, fmt: str) -> None:
    """The daemon's heartbeat, each source's last check and next due time, the
    failing and the late sources. With [cluster]: the queue, the scheduler, the
    workers and the rate of checks too."""
    cluster_report = None
    if app.config.cluster:
        from monitor.cli.cluster import cluster_status

        cluster_report = cluster_status(app)
    engine = app.store(read_only=True).engine
    scheduling = None if cluster_report is None else cluster_report.scheduler is not None
    local = gather(engine, utcnow(), scheduling=scheduling)
    zone = app.config.display_timezone
    if fmt == "json":
        data = local.as_dict()
        if cluster_report is not None:
            data = {**cluster_report.as_dict(), "sources": data["sources"],
                    "source_counts": data["counts"]}
        echo_json(data)
        return
    if cluster_report is not None:
        from monitor.cli.cluster import print_cluster_status

        print_cluster_status(cluster_report, zone)
    else:
        _print_daemons(local, zone)
    _print_sources(local, limit, zone)


# --- for people ----------------------------------------------------------------------
def human_moment(moment: datetime, zone: str) -> str:
    """A moment (naive UTC) for people, in the configured zone (monitor.moments)."""
    return human(moment, zone)


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _ago(moment: datetime, now: datetime) -> str:
    return f"{_span(now - moment)} ago" if moment <= now else f"in {_span(moment - now)}"


def _print_daemons(status: LocalStatus, zone: str) -> None:
    now = status.at
    if not status.daemons:
        click.echo("daemon: not running (no `monitor run` has beaten on this store)")
    for daemon in status.running or status.daemons[:1]:
        click.echo(_daemon_line(daemon, now, zone))


def _daemon_line(daemon: DaemonStatus, now: datetime, zone: str) -> str:
    b = daemon.beat
    who = f"pid {b.pid}@{one_line(b.host)}"
    if not daemon.running:
        if (lead := b.ahead(now)) is not None:
            return (f"daemon: cannot tell ({who}: its last beat is {_span(lead)} in the future; "
                    "that machine's clock and this one's differ)")
        if b.stopped_at is not None:
            return f"daemon: not running (stopped at {human_moment(b.stopped_at, zone)}, {who})"
        gone = " is gone" if now - b.beat_at <= b.stale_after else ""  # a kill -9, seen at once
        return (f"daemon: not running ({who}{gone}, last beat {_ago(b.beat_at, now)}, "
                f"up since {human_moment(b.started_at, zone)})")
    last = ("no check yet" if b.last_check_at is None
            else f"last check finished {_ago(b.last_check_at, now)}")
    return (f"daemon: running, {who}, since {human_moment(b.started_at, zone)} "
            f"(up {_span(now - b.started_at)}), last beat {_ago(b.beat_at, now)}; as of it: "
            f"{b.scheduled} sources scheduled, {b.in_flight} of {b.workers} workers busy, "
            f"{b.checks} checks done, {last}")


def _print_sources(status: LocalStatus, limit: int, zone: str) -> None:
    c = status.counts
    click.echo(f"sources: {c['sources']} ({c['active']} active, {c['paused']} paused, "
               f"{c['failing']} failing, {c['gone']} gone), {c['late']} late, "
               f"{c['never_checked']} never checked")
    if not status.sources:
        click.echo("no sources; add one with `monitor add URL`")
        return
    failing = [s for s in status.sources if s.last_failure]
    if failing:
        click.echo("failing:")
        for s in failing:
            # The count is of failures recorded in the log, which repeats a failure only
            # every `repeat_failures_every`: not of failed checks (`history --checks`).
            since = f"since {human_moment(s.failing_since, zone)} " if s.failing_since else ""
            click.echo(f"  {one_line(s.name)}: failing {since}({_failures(s.failures)} "
                       f"recorded): "
                       f"{one_line(s.last_failure or '', ERROR_CHARS)}")
    shown = [s for s in status.sources if s.last_failure or s.late]
    rest = [s for s in status.sources if not (s.last_failure or s.late)]
    shown += rest if limit == 0 else rest[:limit]
    rows = [(one_line(s.name, 60), s.state, *_checked(s, status.at), _due(s, status.at))
            for s in shown]
    header = ("SOURCE", "STATE", "LAST CHECKED", "OUTCOME", "NEXT DUE (ABOUT)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                   + "  " + row[-1])
    if len(shown) < len(status.sources):
        click.echo(f"… and {len(status.sources) - len(shown)} more (--limit 0 lists all)")


def _failures(count: int) -> str:
    return f"{count} failure{'' if count == 1 else 's'}"


def _checked(s: SourceStatus, now: datetime) -> tuple[str, str]:
    if s.last_checked is None:
        return "never", "-"
    return _ago(s.last_checked, now), s.last_outcome or "-"


def _due(s: SourceStatus, now: datetime) -> str:
    if s.state == "paused":
        return "paused"
    if s.late_by is not None:
        return f"LATE by {_span(s.late_by)}"
    if s.next_due is None:
        return "when a daemon runs" if s.interval_seconds > 0 else "-"
    if s.next_due > now:
        return _ago(s.next_due, now)
    if now - s.next_due < timedelta(minutes=1):
        return "now"
    return f"{_span(now - s.next_due)} overdue"
