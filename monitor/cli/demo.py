"""`monitor demo`: everything working, offline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import cli


@cli.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Keep the demo's store in DIR to explore it afterwards.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-output"), show_default=True, metavar="DIR",
              help="Write what the demo made here: the HTML report, the e-mail (.eml), the "
                   "webhook body (JSON) and the evidence bundle (.zip).")
def demo(keep: Path | None, output: Path) -> None:
    """See the whole product work in seconds, without internet.

    Starts a local gov.kz replica, an SMTP sink and a webhook receiver on
    127.0.0.1; records the shipped baseline; edits the page as a ministry might (a
    number and a name); checks, reports and delivers the alerts; writes what it
    made into the --output folder. Your own store is not touched.
    """
    from monitor.demo import run_demo

    color = sys.stdout.isatty()
    code = run_demo(click.echo, color=color, keep=keep, output=output)
    raise click.exceptions.Exit(code)
