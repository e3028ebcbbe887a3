"""Commands about the watched sources: sources, add, pause, resume, remove."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor import adding, catalog
from monitor.adding import Wanted
from monitor.changes.titles import UNKNOWN
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.config import Config, SourceConfig
from monitor.errors import MonitorError
from monitor.input_files import read_text_capped
from monitor.moments import human
from monitor.source_data import settings_problem, source_data
from monitor.store.queries import get_source, list_sources
from monitor.tags import tags_of
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.preview import Probe

LISTED_TITLE = 60  # characters of a title in `monitor sources`
FROM_FILE_BYTES = 256 * 1024 * 1024  # a million URLs is about 100 MB


@cli.command("sources")
@click.option("--show", "show_name", metavar="NAME", help="Everything about one source.")
@click.option("--all", "include_removed", is_flag=True, help="Include removed sources.")
@format_option
@pass_app
def sources_command(app: AppContext, show_name: str | None, include_removed: bool,
                    fmt: str) -> None:
    """List the watched sources with their state."""
    engine = app.store(read_only=True).engine
    if show_name:
        from monitor.flaps import pending_masks

        row = get_source(engine, show_name)
        data = source_data(row)
        history = app.store(read_only=True).read_stream(row.stream_id)
        data["proposed_masks"] = list(pending_masks(history, row))
        if fmt == "json":
            echo_json(data)
        else:
            zone = app.config.display_timezone
            for key, value in data.items():
                shown = (human(value, zone) if isinstance(value, datetime) else
                         one_line(str(value)) if value not in (None, [], "") else "-")
                click.echo(f"{key:>17}: {shown}")
        return
    rows = list_sources(engine, include_removed=include_removed)
    if fmt == "json":
        echo_json([source_data(r) for r in rows])
        return
    if not rows:
        click.echo("no sources; add one with `monitor add URL`")
        return
    # The document's title leads each line; the source's name follows it.
    titles = [one_line(r.title or "", LISTED_TITLE) or f"({UNKNOWN})" for r in rows]
    title_width = max(len(t) for t in titles)
    width = max(len(r.name) for r in rows)
    for title, r in zip(titles, rows, strict=True):
        failing = (f"  {r.failures} failure{'s' if r.failures != 1 else ''}: "
                   f"{one_line(r.last_failure or '')}" if r.failures else "")
        if problem := settings_problem(r):
            failing += f"  cannot be checked: {one_line(problem)}"
        tags = tags_of(r.options)
        tagged = f"  tags: {', '.join(one_line(t) for t in tags)}" if tags else ""
        click.echo(f"{title:<{title_width}}  {r.name:<{width}}  {r.state:<8} {r.kind:<10} "
                   f"v{r.document_version:<3} every {_human(r.interval_seconds):<5} "
                   f"{one_line(r.url)}{tagged}{failing}")


def _human(seconds: Any) -> str:
    if isinstance(seconds, float) and seconds.is_integer():
        seconds = int(seconds)
    if isinstance(seconds, float) and 0 < seconds < float("inf"):
        return f"{seconds:.3g}s"  # a record written before intervals were whole seconds
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return repr(seconds)  # a record written before intervals were checked
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read URLs from a file, one per line (# comments and blank lines skipped); "
              "they are not fetched first unless --probe is given.")
@click.option("--probe/--no-probe", default=None,
              help="Fetch each new URL once before adding it, and add none if one cannot "
              "be read (default: the URLs on the command line, not a --from-file's). "
              "--no-probe adds them unread.")
@click.option("--name", help="Name of the source (only with a single URL): letters of any "
              "alphabet, digits, '.', '_', '-'.")
@click.option("--kind", help="Source kind: govkz, govkz-list, html, pdf or docx (guessed from "
              "the URL; see `monitor kinds`).")
@click.option("--interval", help="How often to check, 1s to 366d, e.g. 15m, 1h "
              "(default from config).")
@click.option("--selector", help="CSS selector of the content (html sources).")
@click.option("--language", help="Language code (ru, kk, en).")
@click.option("--ignore", multiple=True, help="CSS selector or regex:PATTERN to mask; repeatable.")
@click.option("--follow", is_flag=True, help="List sources: register newly listed articles.")
@click.option("--languages", metavar="ru,kk,en",
              help="gov.kz articles: watch these language versions, linked as translations.")
@click.option("--auth-env", metavar="VAR", help="html sources: the environment variable "
              "holding user:password for HTTP Basic auth (never put them in the URL).")
@click.option("--confirm", metavar="DELAY", help="Read a changed page again this long after "
              "the change, before it alerts (0 off, 1s to 1d; default from config).")
@click.option("--tag", "tag", multiple=True, metavar="TAG", help="File the source under a tag "
              "(lowercase letters or digits, words joined by '-', e.g. human-rights); "
              "repeatable. Given for a watched source, its tags become these.")
@click.option("--render", is_flag=True, help="html sources: read the page in a browser "
              "(Debian's chromium), for pages whose text a script puts in; see [render].")
@click.option("--screenshot", is_flag=True, help="With --render: keep a screenshot of the "
              "first version too (a rendered source keeps one of each changed version).")
@format_option
@pass_app
def add(app: AppContext, urls: tuple[str, ...], from_file: Path | None, probe: bool | None,
        name: str | None, kind: str | None, interval: str | None, selector: str | None,
        language: str | None, ignore: tuple[str, ...], follow: bool, languages: str | None,
        auth_env: str | None, confirm: str | None, tag: tuple[str, ...], render: bool,
        screenshot: bool, fmt: str) -> None:
    """Start watching one or more URLs.

    Each new URL is fetched once first, as its first check will read it, and what it
    showed is printed: the HTTP status, the title, the kind and the first line of
    text. If one cannot be read (no answer, a 404, no text) none is added. The kind is
    guessed from the URL (see `monitor kinds`); a gov.kz article added with
    --languages ru,kk,en becomes three sources linked as translations of one document.
    Each URL gets a name of its own, made of its words: the same URL added again is the
    same source, and two URLs never share one."""
    all_urls = list(urls)
    if from_file is not None:
        lines = read_text_capped(from_file, FROM_FILE_BYTES, "a list of URLs").splitlines()
        all_urls += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    wanted = Wanted(urls=tuple(all_urls), name=name, kind=kind, interval=interval,
                    selector=selector, language=language, ignore=ignore, follow=follow,
                    languages=languages, auth_env=auth_env, confirm=confirm,
                    tags=tag, render=render, screenshot=screenshot)
    wanted = adding.checked(app.config, wanted)  # every option, before the store is opened
    store = app.store()
    names = catalog.SourceNames(store)
    looked = wanted.urls if probe else wanted.urls[:len(urls)] if probe is None else ()
    probes = _probed(names, app.config, replace(wanted, urls=looked), fmt) if looked else []
    done = adding.add(store, app.config, wanted, checked_already=True, names=names)
    if from_file is not None and not probe and len(wanted.urls) > len(urls):
        done.notes.append(f"the URLs of {one_line(from_file.name)} were added without being "
                          "fetched first (--probe fetches each once)")
    if fmt == "json":
        echo_json({"probed": [p.data() for p in probes], "added": done.added,
                   "existing": done.existing, "notes": done.notes})
        return
    for source_name in done.added:
        click.echo(f"added {source_name}")
    for note in done.notes:
        click.echo(note)


class ProbeFailed(MonitorError):
    """A URL to add could not be read, so nothing was added."""


def _probed(names: catalog.SourceNames, config: Config, wanted: Wanted,
            fmt: str) -> list[Probe]:
    """Each source `wanted` would newly register, read once (monitor.preview.probe),
    each shown as it is read (text format). ProbeFailed naming every one that could not
    be read; nothing is written either way."""
    from monitor.preview import Probe, Unread, probe

    specs: dict[str, SourceConfig] = {}
    for plan in adding.planned(names, config, wanted):  # watched already: its checks tell
        if not names.taken(plan.spec.name):
            specs.setdefault(plan.spec.url, plan.spec)
    found: list[Probe] = []
    failed: list[Unread] = []
    for seen in probe(config, list(specs.values()), kind_given=wanted.kind is not None):
        if isinstance(seen, Probe):
            found.append(seen)
            if fmt != "json":
                _show_probe(seen)
        else:
            failed.append(seen)
    if not failed:
        return found
    said = [unread.said() for unread in failed]
    if len(specs) == 1:
        error = ProbeFailed(f"{said[0]}; nothing was added (--no-probe adds it unread)")
    else:
        error = ProbeFailed(adding.none_added(said, len(specs), "cannot be read",
                                             " (--no-probe adds them unread)"))
    error.exit_code = max(unread.exit_code for unread in failed)
    raise error


def _show_probe(seen: Probe) -> None:
    """What one read of a new URL showed; every value came from the page or its server."""
    status = str(seen.status)
    if seen.redirected:
        status += f" (redirected to {one_line(seen.final_url)})"
    kind = seen.spec.kind + (f" (guessed: {seen.kind_guessed}; --kind to choose)"
                             if seen.kind_guessed else " (--kind)")
    text = seen.first_line or "-"
    if seen.item_count:
        items = "1 item" if seen.item_count == 1 else f"{seen.item_count} items"
        text = f"{items} listed; first: {text}"
    click.echo(one_line(seen.spec.url))
    for label, value in (("status", status), ("title", seen.title or "(none)"),
                         ("kind", kind), ("text", text)):
        click.echo(f"  {label:>6}: {value}")


def _state_command(name: str, action: Any, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("source")
    @click.option("--reason", default="", help="Why (kept in the log).")
    @pass_app
    def command(app: AppContext, source: str, reason: str) -> None:
        store = app.store()
        done = action(store, source) if action is catalog.resume else action(store, source,
                                                                              reason)
        past = {"pause": "paused", "resume": "resumed", "remove": "removed"}[name]
        if done:
            click.echo(f"{source}: {past}")
        else:
            already = {"pause": "already paused", "resume": "not paused",
                       "remove": "already removed"}[name]
            click.echo(f"{source}: {already}, nothing recorded")


_state_command("pause", catalog.pause, "Stop checking a source (its history is kept).")
_state_command("resume", catalog.resume, "Resume checking a paused source.")
_state_command("remove", catalog.remove, "Stop watching a source for good (history is kept).")


@cli.command()
def kinds() -> None:
    """The kinds of source and what each does (from the adapters themselves)."""
    from monitor.sources import kinds_help

    click.echo(kinds_help())
