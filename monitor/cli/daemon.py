"""`monitor run`: the daemon."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click

from monitor.bootstrap import sync_configured_sources
from monitor.cli import cli
from monitor.cli.context import AppContext, metrics_port_option, pass_app
from monitor.confirm import Confirmations, ConfirmPlan
from monitor.daemon import Daemon
from monitor.heartbeat import Heartbeat
from monitor.moments import LogFormatter
from monitor.one_check import build_checker


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])
    # One line per check comes from monitor.check; the libraries' own chatter
    # (each retry, each migration step) would bury it.
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)


@cli.command()
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Checks at once (default from config: 8).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info",
              show_default=True)
@click.option("--distributed", is_flag=True,
              help="Be the cluster's scheduler: send due checks to the queue for `monitor "
                   "worker`s (one active at a time; start more as standbys). Needs PostgreSQL "
                   "and [cluster].")
@metrics_port_option
@pass_app
def run(app: AppContext, workers: int | None, log_level: str, distributed: bool,
        metrics_port: int | None) -> None:
    """Run the daemon: check every source on its interval, record changes, send alerts.

    Stops cleanly on SIGTERM or Ctrl-C (exit 0). Sources added or changed while it
    runs are picked up without a restart. It writes a heartbeat to the store every
    few seconds: `monitor status` shows it.
    """
    if distributed:
        from monitor.cli.cluster import run_distributed

        run_distributed(app, workers, log_level, metrics_port)
        return
    configure_logging(log_level)
    on_result = None
    if metrics_port is not None:  # bound first: a taken port is said before any check
        from monitor.cluster import metrics

        metrics.serve(metrics_port)
        on_result = metrics.observe_check
    workers = workers or app.config.workers
    store = app.store(threads=workers)
    sync_configured_sources(store, app.config)
    # A new page's second load is scheduled (the result's again_at), not slept on.
    checker = build_checker(app.config, store, learn_later=True)
    dispatch = _dispatcher(app, store)
    confirmations = Confirmations(store, ConfirmPlan.of(app.config))
    daemon = Daemon(store, checker, workers, dispatch=dispatch,
                    dispatch_seconds=app.config.dispatch_every,
                    confirmations=confirmations, checkpoint=_checkpointer(app, store),
                    on_result=on_result)
    served = web_app(app, store)
    daemon.on_stop = Heartbeat(store.engine, daemon.vitals, clock=store.clock).start().stop
    announce_sources(store, _say)
    _say(next_steps())
    try:
        code = daemon.run()
    finally:
        if served is not None:
            served.stop()
    checker.fetcher.close()
    raise click.exceptions.Exit(code)


def web_app(app: AppContext, store):  # type: ignore[no-untyped-def]
    """The web app in a thread beside the checks (`[web] enabled = false`: none). It
    binds before the first check, so a taken port is said at once, in one line."""
    if not app.config.web_enabled:
        return None
    from monitor.web.app import create_app
    from monitor.web.server import WebThread, announce, base_url, bind

    sock = bind(app.config.web_listen)
    served = WebThread(create_app(app.config, store), sock).start()
    announce(app.config, store, base_url(sock), _say)
    return served


WATCHED_SHOWN = 5  # sources named at the start; the rest are counted


def announce_sources(store, say: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
    """What the daemon watches, in a few lines: the first sources by name with their
    URLs, and how many more."""
    from sqlalchemy import func, select

    from monitor.store.schema import sources
    from monitor.untrusted import one_line
    from monitor.web.durations import short_duration

    watched = sources.c.state != "removed"
    with store.engine.connect() as conn:
        count = conn.execute(select(func.count()).where(watched)).scalar_one()
        shown = conn.execute(select(sources.c.name, sources.c.url, sources.c.interval_seconds,
                                    sources.c.state).where(watched)
                             .order_by(sources.c.name).limit(WATCHED_SHOWN)).all()
    say(f"watching {count} source{'' if count == 1 else 's'}" + (":" if count else ""))
    for name, url, interval, state in shown:
        marked = "" if state == "active" else f" ({one_line(state)})"  # paused, failing …
        say(f"  {one_line(name)}  every {short_duration(interval)}{marked}  {one_line(url)}")
    if count > len(shown):
        say(f"  … and {count - len(shown)} more (`monitor sources` lists them all)")


def next_steps() -> str:
    """What to try next, in two lines, with how to reach `monitor` from another
    terminal (monitor.reach: the venv to activate, as under `make run`)."""
    from monitor.reach import reach_prefix

    return (f"try next, in another terminal in {Path.cwd()} (README: \"Watch your own "
            f"page\"; Ctrl-C here stops the daemon):\n"
            f"  {reach_prefix()}monitor add URL && monitor check --all && monitor report")


def _say(line: str) -> None:
    click.echo(line, err=True)


def _dispatcher(app: AppContext, store):  # type: ignore[no-untyped-def]
    if not app.config.alerts:
        return None
    from monitor.alerts.dispatcher import Dispatcher

    return Dispatcher(store, app.config).run_once


def _checkpointer(app: AppContext, store):  # type: ignore[no-untyped-def]
    """Checkpoints on `[evidence]`'s cadence, signed with the key `monitor init` made;
    without a key file the daemon says so once and signs nothing."""
    from monitor.evidence.cadence import Checkpointer
    from monitor.evidence.keys import load_signing_key
    from monitor.evidence.settings import evidence_settings

    settings = evidence_settings(app.config, app.url)
    if not settings.key_file.exists():
        logging.getLogger("monitor.evidence").warning(
            "no checkpoint key at %s: no checkpoints (run `monitor init` to make one)",
            settings.key_file)
        return None
    return Checkpointer(store, load_signing_key(settings.key_file), settings)
