"""Commands that show what changed: report (over a period) and diff (two versions)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, pass_app
from monitor.errors import UsageError
from monitor.i18n import LANGUAGES, Reader, timezone_problem
from monitor.report.filters import parse_filter
from monitor.report.formats import DIFF_FORMATS, REPORT_FORMATS, render_diff, render_report
from monitor.report.gather import gather_report, gather_version_diff


@cli.command()
@click.option("--since", default="7d", show_default=True, metavar="PERIOD|ISO",
              help="Start of the period: 30m, 12h, 7d, 2w back from now, or an ISO date/time "
                   "(UTC unless it has an offset).")
@click.option("--until", metavar="ISO",
              help="End of the period (exclusive); a bare date includes that whole day.")
@click.option("--source", "source_glob", metavar="GLOB",
              help="Only sources whose name matches, e.g. 'mfa-*'.")
@click.option("--min-significance", metavar="LEVEL",
              help="Only changes at least this significant: low, medium or high.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text",
              show_default=True,
              help="text for a terminal, markdown for tickets, html for one self-contained "
                   "page, json for scripts, atom for feed readers.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--language", type=click.Choice(LANGUAGES), default=None,
              help="Language of the html format: its lang, headings and summaries "
                   "(default: [display] language, else en).")
@click.option("--timezone", metavar="ZONE",
              help="IANA timezone of the times people read (text, markdown, html, Atom's "
                   "texts), e.g. Asia/Almaty "
                   "(default: [display] timezone, else Asia/Almaty).")
@pass_app
def report(app: AppContext, since: str, until: str | None, source_glob: str | None,
           min_significance: str | None, fmt: str, output: Path | None,
           language: str | None, timezone: str | None) -> None:
    """What changed, was published or was removed in a period, with the word-level diff."""
    if timezone is not None and (problem := timezone_problem(timezone)):
        raise UsageError(f"--timezone: {problem}")
    reader = Reader(language or app.config.display_language,
                    timezone or app.config.display_timezone)
    now = datetime.now(UTC).replace(tzinfo=None)
    wanted = parse_filter(since, until, source_glob, min_significance, now)
    gathered = gather_report(app.store(read_only=True).engine, wanted, generated_at=now,
                             public_url=app.config.public_url)
    _emit(render_report(gathered, fmt, color=_color(fmt, output), reader=reader), output)


@cli.command()
@click.argument("source")
@click.option("--from", "from_version", type=click.IntRange(min=1), metavar="V",
              help="The older version (default: the one before --to).")
@click.option("--to", "to_version", type=click.IntRange(min=1), metavar="V",
              help="The newer version (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text",
              show_default=True, help="Output format; json is for scripts.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write to FILE instead of standard output.")
@pass_app
def diff(app: AppContext, source: str, from_version: int | None, to_version: int | None,
         fmt: str, output: Path | None) -> None:
    """The word-level difference between two stored versions of a source."""
    engine = app.store(read_only=True).engine
    compared = gather_version_diff(engine, source, from_version, to_version)
    reader = Reader(timezone=app.config.display_timezone)
    _emit(render_diff(compared, fmt, color=_color(fmt, output), reader=reader), output)


def _color(fmt: str, output: Path | None) -> bool:
    """Colour only for text on a terminal, and never when NO_COLOR is set."""
    if fmt != "text" or output is not None or os.environ.get("NO_COLOR"):
        return False
    # sys.stdout, not click.get_text_stream: that one is deprecated as of click 8.5.
    return sys.stdout.isatty()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False, color=True)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)  # a reader never sees half a report
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
