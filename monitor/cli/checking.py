"""`monitor check`: one pass over some or all sources."""

from __future__ import annotations

import sys

import click

from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import UsageError
from monitor.runner import build_checker, run_pass
from monitor.store.queries import get_source, list_sources

DUE_STATES = ("active", "failing", "gone")


@cli.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--all", "check_all", is_flag=True, help="Check every active source.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Checks at once (default from config: 8).")
@click.option("--no-learn", is_flag=True, help="Do not learn volatile elements on first checks.")
@format_option
@pass_app
def check(app: AppContext, names: tuple[str, ...], check_all: bool, workers: int | None,
          no_learn: bool, fmt: str) -> None:
    """Check sources once and record what changed. Exits 0 when the checks ran,
    even if pages changed or failed."""
    store = app.store()
    if check_all == bool(names):
        raise UsageError("name sources to check, or use --all")
    if check_all:
        targets = [r.name for r in list_sources(store.engine) if r.state in DUE_STATES]
    else:
        targets = [get_source(store.engine, n).name for n in names]
    checker = build_checker(app.config, store, learn=not no_learn)
    bar = None
    if sys.stderr.isatty() and len(targets) > 20 and fmt == "text":
        from tqdm import tqdm

        bar = tqdm(total=len(targets), unit="page", file=sys.stderr)
    try:
        summary = run_pass(checker, targets, workers or app.config.workers,
                           on_result=(lambda _r: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
        checker.fetcher.close()
    if fmt == "json":
        echo_json({"seconds": round(summary.seconds, 3), "counts": dict(summary.counts),
                   "results": [r.__dict__ for r in sorted(summary.results,
                                                          key=lambda r: r.source)]})
        return
    for r in sorted(summary.results, key=lambda r: r.source):
        if r.outcome not in ("unchanged",) or len(summary.results) <= 20:
            extra = f" [{r.significance}]" if r.significance else ""
            detail = f"  {r.detail}" if r.detail else ""
            click.echo(f"{r.source}: {r.outcome}{extra}{detail}")
    click.echo(summary.line())


@cli.command()
@click.argument("name", metavar="SOURCE")
@click.option("--delay", type=float, default=3.0, show_default=True,
              help="Seconds between the two loads.")
@pass_app
def learn(app: AppContext, name: str, delay: float) -> None:
    """Load a page twice and mask the elements whose text differs (counters, clocks).

    Runs by itself on a source's first check; run it again when a site changes its
    layout. The result is shown by `monitor sources --show SOURCE`.
    """
    from dataclasses import replace

    from monitor.check import learn_record, spec_of
    from monitor.fetch import Fetcher
    from monitor.runner import fetch_settings
    from monitor.sources import adapter_for

    store = app.store()
    row = get_source(store.engine, name)
    spec = spec_of(row)
    spec = replace(spec, volatile=(), options={**spec.options, "learn_delay": delay})
    with Fetcher(fetch_settings(app.config)) as fetcher:
        volatile = adapter_for(row.kind).learn_volatile(spec, fetcher)
    learn_record(store, row, volatile)
    click.echo(f"{name}: {len(volatile)} volatile element(s) masked")
    for selector in volatile:
        click.echo(f"  {selector}")
