# ruff: noqa: RUF002  (Cyrillic letters in the help, written so on purpose)
"""`monitor search`: the web app's search, in a terminal or a script."""

from __future__ import annotations

import click

from monitor.changes.titles import MAX_TITLE, label
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.moments import human
from monitor.search.query import MAX_LIMIT, MAX_OFFSET, search
from monitor.untrusted import printable


@cli.command("search")
@click.argument("query")
@click.option("--source", metavar="NAME", help="Every matching version of this source only.")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True,
              help="Hits shown.")
@click.option("--offset", type=click.IntRange(0, MAX_OFFSET), default=0, show_default=True,
              help="Hits skipped (the next page: --offset 20).")
@format_option
@pass_app
def search_command(app: AppContext, query: str, source: str | None, limit: int, offset: int,
                   fmt: str) -> None:
    """Search every stored version of every document, newest first.

    All words must appear; words in quotes must appear together ("death penalty",
    «смертная казнь»); a * after a word matches any ending (суд*). Case, Ё/Е and
    accents do not matter. Across sources each source is one hit (its newest version
    that matches); with --source, every version that matches is."""
    result = search(app.store(read_only=True).engine, query, limit=limit, offset=offset,
                    source=source)
    if fmt == "json":
        echo_json(result.as_data())
        return
    if not result.complete:
        click.echo("note: this phrase is made of words most versions hold; it was looked for "
                   "in the newest of them only (add a word, or --source NAME)", err=True)
    if not result.hits:
        click.echo("nothing found" if not offset else "no more hits")
        return
    zone = app.config.display_timezone
    for hit in result.hits:
        gone = "" if hit.in_latest else f"  (not in the latest version, v{hit.latest_version})"
        click.echo(f"{label(hit.title, hit.source, limit=MAX_TITLE)}  v{hit.version}  "
                   f"{human(hit.captured_at, zone)}{gone}")
        # Page text (one line already): controls shown as U+FFFD; matches bold on a terminal.
        click.echo("  " + "".join(click.style(printable(s.text), bold=True, underline=True)
                                  if s.match else printable(s.text) for s in hit.passage))
    if result.more:
        click.echo(f"more: --offset {offset + limit}")
