"""`monitor check`: one pass over some or all sources."""

from __future__ import annotations

import sys
from typing import Any

import click

from monitor.check import CheckResult
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import UsageError
from monitor.runner import (
    build_checker,
    default_processes,
    plan_processes,
    run_pass,
    run_pass_in_processes,
    source_rows,
)
from monitor.store import EventStore
from monitor.store.queries import get_source
from monitor.store.rows import SourceRow
from monitor.untrusted import one_line

DUE_STATES = ("active", "failing", "gone")


@cli.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--all", "check_all", is_flag=True, help="Check every active source.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Checks at once, over all processes (default from config: 8).")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Worker processes sharing the checks (default: the number of CPUs, "
                   "at most one per source). Per-host limits hold across them.")
@click.option("--no-learn", is_flag=True, help="Do not learn volatile elements on first checks.")
@format_option
@pass_app
def check(app: AppContext, names: tuple[str, ...], check_all: bool, workers: int | None,
          processes: int | None, no_learn: bool, fmt: str) -> None:
    """Check sources once and record what changed. Exits 0 when the checks ran,
    even if pages changed or failed; 1 when a check ended in `error` (the monitor
    itself failed on a source: a bug, or the store), after checking all the others."""
    workers = workers or app.config.workers
    store = app.store(threads=workers)
    if check_all == bool(names):
        raise UsageError("name sources to check, or use --all")
    rows = source_rows(store)
    if check_all:
        targets = sorted(name for name, r in rows.items() if r.state in DUE_STATES)
    else:
        named = [get_source(store.engine, n) for n in names]
        rows.update((r.stream_id, r) for r in named)
        targets = [r.stream_id for r in named]
    urls = {name: rows[name].url for name in targets}
    shares = plan_processes(urls, processes or default_processes(), workers, app.config)
    bar: Any = None

    def progress(_result: CheckResult) -> None:
        if bar is not None:
            bar.update(1)

    def show_progress() -> None:
        nonlocal bar
        if sys.stderr.isatty() and len(targets) > 20 and fmt == "text":
            from tqdm import tqdm

            bar = tqdm(total=len(targets), unit="page", file=sys.stderr)

    try:
        if len(shares) > 1:
            summary = run_pass_in_processes(
                app.config, app.url, shares, learn=not no_learn, on_result=progress,
                before_start=store.engine.dispose)  # no pooled connection crosses a fork
        else:
            checker = build_checker(app.config, store, learn=not no_learn, learn_later=True)
            show_progress()
            try:
                summary = run_pass(checker, targets, workers, on_result=progress, rows=rows)
            finally:
                checker.fetcher.close()
    finally:
        if bar is not None:
            bar.close()
    errors = summary.counts["error"]
    if fmt == "json":
        echo_json({"seconds": round(summary.seconds, 3), "processes": summary.processes,
                   "counts": dict(summary.counts),
                   "results": [r.__dict__ for r in sorted(summary.results,
                                                          key=lambda r: r.source)]})
    else:
        for r in sorted(summary.results, key=lambda r: r.source):
            if r.outcome not in ("unchanged",) or len(summary.results) <= 20:
                extra = f" [{r.significance}]" if r.significance else ""
                detail = f"  {one_line(r.detail)}" if r.detail else ""
                click.echo(f"{r.source}: {r.outcome}{extra}{detail}")
        click.echo(summary.line())
    if errors:  # so that cron notices; a page's own failure is news, not an error
        click.echo(f"error: {errors} check{'s' * (errors != 1)} ended in error (see "
                   "above); every other source was checked", err=True)
        raise click.exceptions.Exit(1)


@cli.command()
@click.argument("name", metavar="SOURCE")
@click.option("--delay", type=float, default=3.0, show_default=True,
              help="Seconds between the two loads.")
@click.option("--accept", is_flag=True,
              help="Apply the masks proposed for parts seen to flap (loads nothing).")
@pass_app
def learn(app: AppContext, name: str, delay: float, accept: bool) -> None:
    """Load a page three times and mask the elements whose text differs (counters,
    clocks) or that hold a relative time ("5 minutes ago").

    Runs by itself on a source's first check; run it again when a site changes its
    layout. With --accept, applies instead the masks proposed since for parts of the
    page seen to flap. The result is shown by `monitor sources --show SOURCE`.
    """
    from dataclasses import replace

    from monitor.check import learn_record, spec_of
    from monitor.fetch import Fetcher
    from monitor.one_check import fetch_settings
    from monitor.sources import adapter_for

    store = app.store()
    row = get_source(store.engine, name)
    if accept:
        _accept_proposals(store, row)
        return
    spec = spec_of(row)
    spec = replace(spec, volatile=(), options={**spec.options, "learn_delay": delay})
    with Fetcher(fetch_settings(app.config)) as fetcher:
        volatile = adapter_for(row.kind).learn_volatile(spec, fetcher)
    learn_record(store, row, volatile)
    click.echo(f"{name}: {len(volatile)} volatile element(s) masked")
    for selector in volatile:
        click.echo(f"  {selector}")


def _accept_proposals(store: EventStore, row: SourceRow) -> None:
    from monitor.errors import ConcurrencyConflict
    from monitor.flaps import masks_applied, pending_masks
    from monitor.store.snapshots import get_blob

    masks = pending_masks(store.read_stream(row.stream_id), row)
    if not masks:
        click.echo(f"{row.name}: no proposed masks to accept")
        return
    raw = None
    if row.raw_hash:
        with store.engine.connect() as conn:
            raw = get_blob(conn, row.raw_hash)
    events, blobs = masks_applied(row, (*(row.volatile or ()), *masks), raw, row.raw_hash,
                                  row.url, row.content_hash)
    try:
        store.append(row.stream_id, row.stream_version, events, blobs=blobs)
    except ConcurrencyConflict:
        raise UsageError(f"{row.name} changed while accepting; run it again") from None
    click.echo(f"{row.name}: {len(masks)} proposed mask(s) accepted")
    for selector in masks:
        click.echo(f"  {one_line(selector)}")
