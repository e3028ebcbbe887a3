"""Commands about the watched sources: sources, add, pause, resume, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from monitor import catalog
from monitor.cli import cli
from monitor.cli.context import AppContext, echo_json, format_option, pass_app
from monitor.config import SourceConfig, parse_duration, url_problem
from monitor.errors import UsageError
from monitor.store.queries import get_source, list_sources, source_by_url


def _source_json(row: Any) -> dict[str, Any]:
    return {
        "name": row.name, "url": row.url, "kind": row.kind, "state": row.state,
        "interval_seconds": row.interval_seconds, "language": row.language,
        "selector": row.selector, "ignore": row.ignore, "volatile": row.volatile,
        "follow": row.follow, "translation_of": row.translation_of,
        "versions": row.document_version, "content_hash": row.content_hash,
        "title": row.title, "published": row.published, "failures": row.failures,
        "last_failure": row.last_failure, "last_change_at": row.last_change_at,
        "registered_at": row.registered_at,
    }


@cli.command("sources")
@click.option("--show", "show_name", metavar="NAME", help="Everything about one source.")
@click.option("--all", "include_removed", is_flag=True, help="Include removed sources.")
@format_option
@pass_app
def sources_command(app: AppContext, show_name: str | None, include_removed: bool,
                    fmt: str) -> None:
    """List the watched sources with their state."""
    engine = app.store().engine
    if show_name:
        data = _source_json(get_source(engine, show_name))
        if fmt == "json":
            echo_json(data)
        else:
            for key, value in data.items():
                click.echo(f"{key:>17}: {value if value not in (None, [], '') else '-'}")
        return
    rows = list_sources(engine, include_removed=include_removed)
    if fmt == "json":
        echo_json([_source_json(r) for r in rows])
        return
    if not rows:
        click.echo("no sources; add one with `monitor add URL`")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        failing = (f"  {r.failures} failure{'s' if r.failures != 1 else ''}: {r.last_failure}"
                   if r.failures else "")
        click.echo(f"{r.name:<{width}}  {r.state:<8} {r.kind:<10} v{r.document_version:<3} "
                   f"every {_human(r.interval_seconds):<5} {r.url}{failing}")


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read URLs from a file, one per line (# comments and blank lines skipped).")
@click.option("--name", help="Name of the source (only with a single URL).")
@click.option("--kind", help="Source kind: govkz, govkz-list, html, pdf or docx (guessed from "
              "the URL; see `monitor kinds`).")
@click.option("--interval", help="How often to check, e.g. 15m, 1h (default from config).")
@click.option("--selector", help="CSS selector of the content (html sources).")
@click.option("--language", help="Language code (ru, kk, en).")
@click.option("--ignore", multiple=True, help="CSS selector or regex:PATTERN to mask; repeatable.")
@click.option("--follow", is_flag=True, help="List sources: register newly listed articles.")
@click.option("--languages", metavar="ru,kk,en",
              help="gov.kz articles: watch these language versions, linked as translations.")
@format_option
@pass_app
def add(app: AppContext, urls: tuple[str, ...], from_file: Path | None, name: str | None,
        kind: str | None, interval: str | None, selector: str | None, language: str | None,
        ignore: tuple[str, ...], follow: bool, languages: str | None, fmt: str) -> None:
    """Start watching one or more URLs.

    The kind is guessed from the URL (see `monitor kinds`); a gov.kz article added
    with --languages ru,kk,en becomes three sources linked as translations of one
    document."""
    all_urls = list(urls)
    if from_file is not None:
        lines = from_file.read_text(encoding="utf-8").splitlines()
        all_urls += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not all_urls:
        raise UsageError("give at least one URL, or --from-file FILE")
    if name and len(all_urls) > 1:
        raise UsageError("--name needs exactly one URL")
    for url in all_urls:
        if problem := url_problem(url):
            raise UsageError(problem)
    try:
        seconds = int(parse_duration(interval)) if interval else app.config.default_interval
    except ValueError as exc:
        raise UsageError(f"--interval: {exc}") from None
    if seconds < 1:
        raise UsageError("--interval: must be at least 1s")
    # Settings the user named; an existing source keeps every other setting it has.
    named = {key for key, given in (
        ("interval_seconds", interval), ("kind", kind), ("selector", selector),
        ("language", language or languages), ("ignore", ignore), ("follow", follow),
        ("url", name), ("translation_of", languages)) if given}
    if kind is not None:
        from monitor.sources import KINDS

        if kind not in KINDS:
            raise UsageError(f"--kind: unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    store = app.store()
    added: list[str] = []
    existing: list[str] = []
    notes: list[str] = []
    for url in all_urls:
        source_kind = kind or catalog.guess_kind(url)
        variants = [(language, url)]
        if languages:
            wanted = [x.strip() for x in languages.split(",") if x.strip()]
            variants = [(lang, u) for lang, u in catalog.language_variants(url, wanted)]
        first: str | None = None
        for lang, variant_url in variants:
            same_url = None if name else source_by_url(store.engine, variant_url)
            base = name or catalog.derive_name(variant_url, source_kind)
            spec = SourceConfig(
                name=same_url.name if same_url else (
                    f"{base}-{lang}" if name and languages else base),
                url=variant_url, kind=source_kind, interval_seconds=seconds, language=lang,
                selector=selector, ignore=tuple(ignore), follow=follow, translation_of=first,
            )
            registration = catalog.register(store, spec, only=frozenset(named))
            if registration.removed:
                notes.append(f"{spec.name} was removed earlier and stays removed (its history "
                             "is kept); add the page under another --name to watch it again")
            elif registration.created:
                added.append(spec.name)
            else:
                existing.append(spec.name)
                changed = ", ".join(registration.reconfigured) or "nothing changed"
                notes.append(f"already watched as {spec.name} ({changed})")
            first = first or spec.name
    if fmt == "json":
        echo_json({"added": added, "existing": existing, "notes": notes})
        return
    for source_name in added:
        click.echo(f"added {source_name}")
    for note in notes:
        click.echo(note)


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
