"""Commands that set up and look after the store: init, verify, rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from monitor.bootstrap import sync_configured_sources
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.evidence.keys import create_key, load_signing_key
from monitor.evidence.settings import evidence_settings
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
    key_file = evidence_settings(app.config, app.url).key_file
    made = create_key(key_file)
    result: dict[str, Any] = {
        "database": describe(app.url), "schema": migrate.current_revision(store.engine),
        "registered": synced.registered, "reconfigured": synced.reconfigured,
        "baselines": synced.baselines, "checkpoint_key": str(key_file),
        "key_id": load_signing_key(key_file).public.key_id,
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
    if made:
        click.echo(f"checkpoint key made: {key_file} (id {result['key_id']}; "
                   "`monitor keys` shows its public half)")
    if not app.config.sources and app.config.path is None:
        click.echo("no monitor.toml found: add sources with `monitor add URL`")


@cli.command()
@click.option("--witness", "witnesses", multiple=True, metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="A witness file of checkpoints to check the log against (repeatable); "
                   "the configured one is always read when it exists.")
@click.option("--public-key", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False),
              help="The public key to check signatures with (PEM or base64, as `monitor "
                   "keys` prints it); default: the key file's.")
@format_option
@pass_app
def verify(app: AppContext, witnesses: tuple[Path, ...], public_key: Path | None,
           fmt: str) -> None:
    """Recompute every stream's hash chain, decode every blob, compare the projections
    (sources, versions, changes) with a replay of the log, and check the log against
    every signed checkpoint in the store and the witness files; exit 1 and name what was
    altered or is missing. Warn (exit 0) where a stream's clock went back.

    Opens the store read-only, so it checks a write-protected copy of the evidence
    as it is."""
    from monitor.evidence.verify import check_evidence, summary, summary_line

    store = app.store(read_only=True)
    report = verify_log(store.engine)
    evidence, files, key = check_evidence(store, evidence_settings(app.config, app.url),
                                          witnesses, public_key)
    report.problems += evidence.problems
    report.warnings += evidence.warnings
    if fmt == "json":
        echo_json({"intact": report.intact, "events": report.events_checked,
                   "streams": report.streams_checked, "blobs": report.blobs_checked,
                   "projection_rows": report.projection_rows,
                   "checkpoints": summary(evidence, files, key),
                   "problems": report.problems, "warnings": report.warnings})
    elif report.intact:
        streams, stored = report.streams_checked, report.blobs_checked
        click.echo(f"log intact: {report.events_checked} events in {streams} "
                   f"stream{'s' if streams != 1 else ''} verified; {stored} "
                   f"blob{'s' if stored != 1 else ''} decode to their hashes; "
                   f"{report.projection_rows} projection rows match a replay of the log")
        if line := summary_line(evidence, files):
            click.echo(line)
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
    """Drop the projections (sources, versions, changes, the search index) and rebuild
    them from the log.

    Safe while checks run: appends wait until the rebuild is done."""
    count = projections.rebuild(app.store().engine)
    if fmt == "json":
        echo_json({"replayed": count})
    else:
        click.echo(f"projections rebuilt from {count} events")
