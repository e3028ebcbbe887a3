"""Commands that set up and look after the store: init, verify, rebuild."""

from __future__ import annotations

from typing import Any

import click

from monitor.bootstrap import sync_configured_sources
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.store import migrate, projections
from monitor.store.database import describe
from monitor.store.verify import verify_log


@cli.command()
@format_option
@pass_app
def init(app: AppContext, fmt: str) -> None:
    """Create or upgrade the store, register the configured sources, import baselines.

    Safe to run again: nothing is recorded twice.
    """
    store = app.store(check_schema=False)
    migrate.upgrade(store.engine)
    synced = sync_configured_sources(store, app.config)
    result: dict[str, Any] = {
        "database": describe(app.url), "schema": migrate.current_revision(store.engine),
        "registered": synced.registered, "reconfigured": synced.reconfigured,
        "baselines": synced.baselines,
    }
    if fmt == "json":
        echo_json(result)
        return
    click.echo(f"store: {result['database']} (schema {result['schema']})")
    click.echo(f"sources: {len(app.config.sources)} configured, "
               f"{len(result['registered'])} newly registered, "
               f"{len(result['reconfigured'])} reconfigured")
    for name in result["baselines"]:
        click.echo(f"baseline imported as version 1 of {name}")
    if not app.config.sources and app.config.path is None:
        click.echo("no monitor.toml found: add sources with `monitor add URL`")


@cli.command()
@format_option
@pass_app
def verify(app: AppContext, fmt: str) -> None:
    """Recompute every stream's hash chain, decode every blob and compare the projections
    (sources, versions, changes) with a replay of the log; exit 1 and name what was
    altered or is missing. Warn (exit 0) where a stream's clock went back.

    Opens the store read-only, so it checks a write-protected copy of the evidence
    as it is."""
    report = verify_log(app.store(read_only=True).engine)
    if fmt == "json":
        echo_json({"intact": report.intact, "events": report.events_checked,
                   "streams": report.streams_checked, "blobs": report.blobs_checked,
                   "projection_rows": report.projection_rows,
                   "problems": report.problems, "warnings": report.warnings})
    elif report.intact:
        streams, stored = report.streams_checked, report.blobs_checked
        click.echo(f"log intact: {report.events_checked} events in {streams} "
                   f"stream{'s' if streams != 1 else ''} verified; {stored} "
                   f"blob{'s' if stored != 1 else ''} decode to their hashes; "
                   f"{report.projection_rows} projection rows match a replay of the log")
    else:
        for problem in report.problems:
            click.echo(f"ALTERED: {problem}")
        if report.projections_differ:
            click.echo("the projections differ from the log, which is the record: "
                       "`monitor rebuild` rebuilds them from it")
    if fmt != "json":
        for warning in report.warnings:
            click.echo(f"WARNING: {warning}")
    if not report.intact:
        raise click.exceptions.Exit(1)


@cli.command()
@format_option
@pass_app
def rebuild(app: AppContext, fmt: str) -> None:
    """Drop the projections (sources, versions, changes) and rebuild them from the log.

    Safe while checks run: appends wait until the rebuild is done."""
    count = projections.rebuild(app.store().engine)
    if fmt == "json":
        echo_json({"replayed": count})
    else:
        click.echo(f"projections rebuilt from {count} events")
