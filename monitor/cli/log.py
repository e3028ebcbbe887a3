"""Commands that read the log: events, history, show."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from monitor.changes.titles import MAX_TITLE, label
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.errors import UsageError
from monitor.event_data import event_data
from monitor.moments import human
from monitor.removal import removal_said
from monitor.screenshots import versions_with_screenshots
from monitor.store.mapper import StoredEvent
from monitor.store.queries import get_source, list_changes, list_versions, version_text
from monitor.untrusted import json_text, one_line, printable


def describe(event: StoredEvent, zone: str) -> str:
    """One human line about an event (its times in `zone`)."""
    d = event.data
    match event.type:
        case "SourceRegistered":
            return f"{d['kind']} {d['url']}"
        case "BaselineImported":
            return f"baseline {d['origin']} sha256:{d['content_hash'][:12]}"
        case "VersionCaptured":
            return f"sha256:{d['content_hash'][:12]} from {d['url']}"
        case "ChangeDetected":
            return f"[{d['significance']}] {d['summary']}"
        case "DocumentPublished":
            return f"{one_line(d['title'], MAX_TITLE)} {one_line(d['url'])}"
        case "DocumentRemoved":
            return (f"confirmed on {d['confirmations']} checks: "
                    f"{one_line(removal_said(d))}")
        case "FetchFailed":
            return f"{d['kind']}: {d['message']}"
        case "SourceReconfigured":
            return ", ".join(f"{k}={v!r}" for k, v in d["changes"].items())
        case "ChangeRechecked":
            by = f" by event {d['by']}" if d.get("by") else ""
            return f"{d['outcome']}{by} (change {d['change_id']}, read again after " \
                f"{d['delay_seconds']:g}s)"
        case "ArchiveCopyRecorded":
            return f"copy of {one_line(d['url'])} at {one_line(d['archive_url'])}"
        case "MasksProposed":
            return f"{d['reason']}: {', '.join(d['volatile'])} (accept: monitor learn --accept)"
        case "ChecksSummarized":
            span = f"{_when(d['first_at'], zone)} to {_when(d['last_at'], zone)}"
            return f"{d['checks']} checks of {d['sources']} sources, {span}, root {d['root'][:16]}"
        case "CheckpointSigned":
            return f"{d['events']} events up to position {d['position']}, root {d['root'][:16]}"
        case _:
            return d.get("reason", "") or ""


def _when(value: object, zone: str) -> str:
    """A moment an event's data holds as RFC 3339 text, for people (as recorded if it
    is not one)."""
    try:
        return human(datetime.fromisoformat(str(value)), zone)
    except ValueError:
        return str(value)


@cli.command()
@click.option("--since-position", type=click.IntRange(min=0, max=2 ** 63 - 1), default=0,
              show_default=True, metavar="N",
              help="Only events after this global position.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they are recorded.")
@click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@format_option
@pass_app
def events(app: AppContext, since_position: int, follow: bool, poll: float, as_json: bool,
           fmt: str) -> None:
    """Print the event log in order (the source of truth)."""
    store = app.store(read_only=True)
    zone = app.config.display_timezone
    lines = as_json or fmt == "json"
    position = since_position
    while True:
        for event in store.iter_all(position):
            if lines:
                click.echo(_compact(event_data(event)))
            else:
                click.echo(f"{event.position:>6}  {human(event.recorded_at, zone)}  "
                           f"{event.stream_id} #{event.version}  {event.type}  "
                           f"{one_line(describe(event, zone))}")  # it quotes pages and servers
            position = event.position
        if not follow:
            return
        try:
            time.sleep(poll)
        except KeyboardInterrupt:
            return


def _compact(value: Any) -> str:
    import json

    return json_text(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


@cli.command()
@click.argument("source")
@click.option("--checks", is_flag=True,
              help="Every check instead (the check ledger): time, HTTP status, unchanged or "
                   "not, the text's and the body's hashes, covered by a signed checkpoint.")
@click.option("--since", metavar="PERIOD|ISO", help="With --checks: from 12h, 7d back or an "
              "ISO date/time (UTC unless it has an offset).")
@click.option("--until", metavar="ISO", help="With --checks: before this ISO date/time (a "
              "bare date includes that day).")
@format_option
@pass_app
def history(app: AppContext, source: str, checks: bool, since: str | None, until: str | None,
            fmt: str) -> None:
    """The versions and changes recorded for one source (--checks: every check)."""
    store = app.store(read_only=True)
    engine = store.engine
    row = get_source(engine, source)
    if checks:
        from monitor.cli.checks_view import show_checks

        show_checks(store, row, since, until, fmt, app.config.display_timezone)
        return
    if since or until:
        raise UsageError("--since and --until go with --checks")
    versions = list_versions(engine, row.stream_id)
    changes = list_changes(engine, row.stream_id)
    shots = versions_with_screenshots(engine, row.stream_id)
    zone = app.config.display_timezone
    if fmt == "json":
        echo_json({
            "title": row.title,
            "source": row.name,
            "versions": [{"version": v.document_version, "content_hash": v.content_hash,
                          "captured_at": v.captured_at, "origin": v.origin,
                          "title": v.title, "published": v.published,
                          "screenshot": shots.get(v.document_version)} for v in versions],
            "changes": [{"event_position": c.event_position, "event_id": c.event_id,
                         "kind": c.kind, "detected_at": c.detected_at,
                         "significance": c.significance, "classes": c.classes,
                         "summary": c.summary, "from_version": c.from_version,
                         "to_version": c.to_version} for c in changes],
        })
        return
    click.echo(label(row.title, row.name))
    click.echo(f"  {one_line(row.url)}  ({row.state})")
    known: str | None = None
    for v in versions:
        # A version's title is shown where it first appears or changes.
        title = f"  title: {one_line(v.title, MAX_TITLE)}" if v.title and v.title != known else ""
        known = v.title or known
        shot = "  [screenshot]" if v.document_version in shots else ""
        click.echo(f"  v{v.document_version}  {human(v.captured_at, zone)}  {v.origin:<8} "
                   f"sha256:{v.content_hash[:12]}{shot}{title}")
    for c in changes:
        click.echo(f"  {human(c.detected_at, zone)}  {c.kind:<9} [{c.significance}] "
                   f"{one_line(c.summary)}")
    if not versions and not changes:
        click.echo("  nothing recorded yet")


@cli.command()
@click.argument("target", metavar="SOURCE[@VERSION]")
@click.option("--raw", is_flag=True,
              help="The fetched bytes the version was read from, kept as evidence, "
                   "instead of its canonical text.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="With --raw: write the bytes to FILE.")
@click.option("--screenshot", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              metavar="FILE", help="Write the version's screenshot (a PNG) to FILE; - for "
                                   "standard output when it is not a terminal.")
@format_option
@pass_app
def show(app: AppContext, target: str, raw: bool, output: Path | None, screenshot: Path | None,
         fmt: str) -> None:
    """Print a stored version's canonical text (the latest when no @VERSION)."""
    name, _, number = target.partition("@")
    if number and not (number.isascii() and number.isdigit()):
        raise UsageError(f"{target!r}: VERSION must be a number, e.g. {name}@1")
    if len(number) > 18:  # past any stored version, and past SQLite's integers
        raise UsageError(f"source {name!r} has no version {number}")
    if output is not None and not raw:
        raise UsageError("--output goes with --raw (the text is printed; redirect it)")
    if screenshot is not None and raw:
        raise UsageError("--screenshot and --raw write different things: choose one")
    for path in (output, screenshot):
        if path is not None and str(path) != "-":
            app.refuse_store_file(path)
    engine = app.store(read_only=True).engine
    row = get_source(engine, name)
    version, text = version_text(engine, row.stream_id, int(number) if number else None)
    if screenshot is not None:
        from monitor.cli.screenshot_output import emit_screenshot

        emit_screenshot(engine, row, version, screenshot, fmt)
        return
    if raw:
        from monitor.cli.raw_output import emit_raw, raw_capture

        emit_raw(raw_capture(engine, row, version), row, version, fmt, output)
        return
    if fmt == "json":
        echo_json({"source": row.name, "version": version.document_version,
                   "content_hash": version.content_hash, "captured_at": version.captured_at,
                   "text": text})
    else:  # the page chose this text: bidi overrides and controls shown, not obeyed
        click.echo(printable(text), nl=False)
