"""`monitor demo`: everything working, offline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import cli


@cli.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Keep the demo's store in DIR to explore it afterwards.")
def demo(keep: Path | None) -> None:
    """See the whole product work in seconds, without internet.

    Starts a local gov.kz replica, an SMTP sink and a webhook receiver on
    127.0.0.1; records the shipped baseline; edits the page as a ministry might (a
    number and a name); checks, reports and delivers the alerts. Your own store
    is not touched.
    """
    from monitor.demo import run_demo

    color = sys.stdout.isatty()
    code = run_demo(click.echo, color=color, keep=keep)
    raise click.exceptions.Exit(code)
