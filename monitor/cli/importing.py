"""`monitor import`: the pages watched with urlwatch, changedetection.io, a feed reader
(OPML) or a list of URLs, registered as sources."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.imports import FORMATS, read
from monitor.imports.register import Outcome, checked, imported
from monitor.untrusted import one_line


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "source_format", type=click.Choice(FORMATS),
              help="The file's format (default: told by its content).")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; register nothing.")
@click.option("--tag", "tag", multiple=True, metavar="TAG",
              help="Also file every imported source under this tag; repeatable.")
@click.option("--interval", help="How often to check the pages the file gives no interval "
              "(default from config).")
@format_option
@pass_app
def import_command(app: AppContext, file: Path, source_format: str | None, dry_run: bool,
                   tag: tuple[str, ...], interval: str | None, fmt: str) -> None:
    """Watch the pages another tool watched.

    FILE is urlwatch's urls.yaml, a changedetection.io backup (the zip, or its
    url-watches.json), an OPML file or a list of URLs (one a line, # comments). Each
    page's URL, name, selector (css and xpath filters), ignore entries, interval,
    tags and paused state are carried over; everything else is listed as not carried
    over. The URLs are not fetched. A page watched already keeps its settings. If any
    URL cannot be watched, nothing is imported."""
    found = read(file, source_format)
    entries = checked(app.config, found, tag, interval, str(file))  # before the store opens
    outcomes = imported(app.store(), app.config, entries, found.format, dry_run=dry_run)
    counts = {state: sum(o.state == state for o in outcomes)
              for state in ("imported", "watched", "skipped")}
    dropped = sum(len(o.entry.dropped) for o in outcomes)
    if fmt == "json":
        echo_json({"format": found.format, "dry_run": dry_run, "counts": counts,
                   "not_carried_over": dropped, "notes": found.notes,
                   "entries": [o.data() for o in outcomes]})
        return
    for outcome in outcomes:
        _show(outcome, dry_run)
    for note in found.notes:
        click.echo(one_line(note))
    verb = "would be imported" if dry_run else "imported"
    click.echo(f"{counts['imported']} {verb}, {counts['watched']} already watched, "
               f"{counts['skipped']} not imported, {dropped} setting"
               f"{'s' if dropped != 1 else ''} not carried over"
               + (" (dry run: nothing registered)" if dry_run else ""))


def _show(outcome: Outcome, dry_run: bool) -> None:
    entry, spec = outcome.entry, outcome.spec
    if spec is not None:
        settings = [f"selector {spec.selector!r}" if spec.selector else "",
                    f"ignore {len(spec.ignore)}" if spec.ignore else "",
                    f"tags {','.join(spec.tags)}" if spec.tags else "",
                    "paused" if entry.paused else ""]
        shown = "; ".join(s for s in settings if s)
        click.echo(f"{'would import' if dry_run else 'imported'} {spec.name}  "
                   f"{one_line(spec.url)}" + (f"  ({one_line(shown)})" if shown else ""))
    elif outcome.state == "watched":
        click.echo(f"{one_line(entry.where)}: {one_line(outcome.reason or '')}")
    else:
        click.echo(f"not imported: {one_line(entry.where)}: {one_line(outcome.reason or '')}")
    for change in entry.changed:
        click.echo(f"  note: {one_line(change)}")
    for what in entry.dropped:
        click.echo(f"  not carried over: {one_line(what)}")
