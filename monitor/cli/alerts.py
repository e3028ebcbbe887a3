"""`monitor alerts`: the deliveries and their states; dispatch, test, retry."""

from __future__ import annotations

from typing import Any

import click

from monitor.alerts import Dispatcher, DispatchSummary
from monitor.alerts.channels import kinds_help
from monitor.alerts.outbox import listing, requeue
from monitor.alerts.schema import STATES
from monitor.alerts.trial import send_test
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import UsageError
from monitor.moments import human
from monitor.store.eventstore import utcnow
from monitor.untrusted import one_line


@cli.group(invoke_without_command=True)
@click.option("--state", "states", type=click.Choice(STATES), multiple=True,
              help="Only deliveries in this state (repeat for several).")
@click.option("--channel", metavar="NAME", help="Only deliveries to this channel.")
@click.option("--limit", type=int, default=50, show_default=True,
              help="Show at most this many, newest first (0: all).")
@format_option
@pass_app
@click.pass_context
def alerts(ctx: click.Context, app: AppContext, states: tuple[str, ...], channel: str | None,
           limit: int, fmt: str) -> None:
    """List alert deliveries with their state (pending, sending, retrying,
    delivered, dead; confirming, dropped for changes held for a re-check).
    Subcommands send them, test a channel, or retry dead ones."""
    if ctx.invoked_subcommand is not None:
        return
    rows = listing(app.store(read_only=True).engine, states, channel, limit or None)
    if fmt == "json":
        echo_json([_row_json(row) for row in rows])
        return
    if not rows:
        click.echo("no deliveries" + (" in that state" if states else ""))
        return
    zone = app.config.display_timezone
    for row in rows:
        click.echo(f"{row.id:>6}  {row.state:<9}  {row.channel}  {row.kind:<9}  "
                   f"{row.stream_id}  {one_line(row.summary)}")
        when = f"next try {human(row.next_attempt_at, zone)}" if row.state in (
            "pending", "retrying", "sending") else ""
        if row.state == "delivered" and row.delivered_at:
            when = f"delivered {human(row.delivered_at, zone)}"
        tail = f"  last error: {one_line(row.last_error)}" if row.last_error else ""
        tries = f"{row.attempts} attempt{'' if row.attempts == 1 else 's'}"
        click.echo(f"        {tries}  {when}{tail}".rstrip())


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "alert_id": row.alert_id, "state": row.state, "channel": row.channel,
        "kind": row.kind, "source": row.stream_id, "summary": row.summary,
        "event_id": row.event_id, "event_position": row.event_position,
        "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error, "created_at": row.created_at,
        "delivered_at": row.delivered_at,
    }


@alerts.command()
@click.option("--limit", type=int, default=100, show_default=True,
              help="Deliveries tried per round; rounds go on while they are full.")
@format_option
@pass_app
def dispatch(app: AppContext, limit: int, fmt: str) -> None:
    """Enqueue alerts for new events and send everything due, once; then exit."""
    dispatcher = Dispatcher(app.store(), app.config)
    if not dispatcher.routes:
        click.echo("no alert channels are configured ([[alerts]] in monitor.toml); "
                   "new events wait for one", err=True)
    summary = DispatchSummary(enqueued=dispatcher.enqueue())
    while True:
        more = dispatcher.deliver_due(limit)
        summary = summary + more
        if more.attempted < limit:
            break
    if fmt == "json":
        echo_json(summary.as_dict())
    else:
        click.echo(str(summary))


@alerts.command()
@click.argument("name")
@pass_app
def test(app: AppContext, name: str) -> None:
    """Send a sample alert through the channel NAME and say what happened (exit 1
    if it failed). Nothing is recorded."""
    sent = send_test(app.config, name)  # a failure is a MonitorError: one line, exit 1
    click.echo(f"sent: {sent.channel} ({sent.kind}): {sent.detail}; alert id {sent.alert_id}")


@alerts.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--dead", "all_dead", is_flag=True, help="Every dead delivery.")
@format_option
@pass_app
def retry(app: AppContext, ids: tuple[int, ...], all_dead: bool, fmt: str) -> None:
    """Put dead deliveries (by ID, or all with --dead) back to pending, with a
    fresh set of attempts; the next dispatch sends them."""
    if bool(ids) == all_dead:
        raise UsageError("give delivery IDs or --dead (not both)")
    done = requeue(app.store().engine, None if all_dead else ids, utcnow())
    missing = sorted(set(ids) - set(done))
    if fmt == "json":
        echo_json({"requeued": done, "not_dead": missing})
    else:
        click.echo(f"{len(done)} deliveries back to pending" + (
            f" ({', '.join(map(str, done))})" if done and not all_dead else ""))
    if missing:
        raise UsageError(f"not dead (or no such delivery): {', '.join(map(str, missing))}")


@alerts.command()
def kinds() -> None:
    """The channel kinds and their settings."""
    click.echo(kinds_help())


from monitor.cli import alert_channels  # noqa: E402, F401  (add, list, remove: the channels)
