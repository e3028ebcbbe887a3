"""What adding a URL would watch, shown before anything is recorded: the page fetched
once by the monitor's fetcher (its address policy, size cap and deadline) and read by
the source's adapter, as a check reads it. The web app's preview adds what that one
load shows of the page's noise (monitor.sources.one_load); `monitor add` probes each
new URL so (`probe`) and registers none if one cannot be read. Nothing is written to
the store."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from monitor import adding, catalog, trace
from monitor.check import CHECK_DEADLINES
from monitor.config import Config, SourceConfig
from monitor.content import decode
from monitor.errors import FetchFailed, MonitorError, UsageError
from monitor.fetch import Fetcher, FetchSettings
from monitor.naming import same_url
from monitor.netguard import check_scope
from monitor.one_check import fetch_settings
from monitor.render.choice import renders
from monitor.sources import adapter_for
from monitor.sources.base import Capture, ListedItem, SourceSpec, learns_volatile
from monitor.sources.one_load import OneLoad, one_load
from monitor.sources.shell import page_shell
from monitor.store import EventStore
from monitor.store.queries import source_by_stream
from monitor.untrusted import one_line

log = logging.getLogger("monitor.preview")

SHOWN_PARAGRAPHS = 8
SHOWN_ITEMS = 10
SHOWN_LINE = 100  # characters of a probed page's title and first line
# A probe tries again once, not [fetch] retries times with their backoff: someone waits
# at the terminal, and a dead port or an unknown host is said in a second, not seven.
PROBE_RETRIES = 1
# Failures of a read that found no text, or not the selected part: a page built by its
# scripts, read without them, fails so.
SHELL_FAILURES = ("empty", "parse")


class PreviewFailed(MonitorError):
    """The page could not be read for a reason of our own (a bug the page tripped)."""


@dataclass(frozen=True)
class Preview:
    spec: SourceConfig  # the source as it would be registered: name, kind, language, interval
    final_url: str
    redirects: tuple[str, ...]
    content_type: str
    size: int  # bytes of the answer
    title: str | None
    published: str | None
    paragraphs: tuple[str, ...]  # the text's first paragraphs
    paragraph_count: int
    words: int
    items: tuple[ListedItem, ...]  # a list source's first items
    item_count: int
    learns: bool  # the kind learns what changes on every load at the first check
    noise: OneLoad | None  # what this one load shows of it (pages of a kind that learns)
    notes: tuple[str, ...]
    watched_as: str | None  # the source that watches this URL already


def preview(store: EventStore, config: Config, wanted: adding.Wanted,
            label: adding.Label = adding.option) -> Preview:
    """One URL read as it would be watched. UsageError for a bad setting (the
    address policy included), FetchFailed for a page that cannot be read."""
    wanted = adding.checked(config, wanted, label)
    if len(wanted.urls) != 1 or wanted.languages:
        raise UsageError("a preview reads one URL in one language")
    plan = next(adding.planned(catalog.SourceNames(store), config, wanted))
    spec = plan.spec
    existing = source_by_stream(store.engine, spec.name)
    watched_as = None
    if existing is not None:
        if same_url(existing.url) != same_url(spec.url):
            raise UsageError(f"{label('name')} {spec.name} already watches "
                             f"{one_line(existing.url)}; choose another {label('name')}")
        watched_as = spec.name
    adapter = adapter_for(spec.kind)
    settings = fetch_settings(config)
    with Fetcher(settings) as fetcher, _Readers(config, fetcher) as readers:
        captured, _ = _capture(readers.for_spec(spec), settings, spec, label=label)
    document = captured.document
    noise = None
    if learns_volatile(adapter) and "html" in captured.content_type and captured.raw:
        noise = _noise(captured, spec)
    notes = [n for n in (plan.note,) if n]
    if not document.paragraphs and document.title is None:
        notes.append("nothing is left of the page after the source's masks and selector (no "
                     "title, no text): its first check would record nothing")
    return Preview(
        spec=spec, final_url=captured.final_url, redirects=captured.redirects,
        content_type=captured.content_type, size=len(captured.raw), title=document.title,
        published=document.published, paragraphs=document.paragraphs[:SHOWN_PARAGRAPHS],
        paragraph_count=len(document.paragraphs),
        words=sum(len(p.split()) for p in document.paragraphs),
        items=captured.items[:SHOWN_ITEMS], item_count=len(captured.items),
        learns=learns_volatile(adapter), noise=noise,
        notes=tuple(notes), watched_as=watched_as,
    )


@dataclass(frozen=True)
class Probe:
    """What one read of a URL about to be added showed (`probe`)."""

    spec: SourceConfig  # the source as it would be registered
    status: int  # the last answer's HTTP status (a gov.kz article's: the API's)
    final_url: str
    redirected: bool
    title: str | None  # printable, on one line, cut to SHOWN_LINE
    first_line: str | None  # the text's first paragraph (a list's first item), likewise
    item_count: int  # a list source's items
    kind_guessed: str | None  # what in the URL chose the kind; None: --kind said it

    def data(self) -> dict[str, object]:
        return {"url": self.spec.url, "status": self.status, "final_url": self.final_url,
                "title": self.title, "kind": self.spec.kind,
                "kind_guessed_from": self.kind_guessed, "first_line": self.first_line,
                "items": self.item_count}


@dataclass(frozen=True)
class Unread:
    """Why a URL about to be added could not be read (`probe`)."""

    url: str
    message: str
    exit_code: int

    def said(self) -> str:
        """The message, naming the URL given (a gov.kz read's may name only the API's)."""
        shown = one_line(self.url)
        return self.message if shown in self.message else f"{shown}: {self.message}"


def probe(config: Config, specs: Sequence[SourceConfig],
          kind_given: bool) -> Iterator[Probe | Unread]:
    """Each source read once, as its first check would read it, in order: what it
    showed, or why it cannot be read (a page with nothing to watch included). One
    fetcher for all, so its per-host politeness holds across them."""
    settings = fetch_settings(config)
    settings = replace(settings, retries=min(settings.retries, PROBE_RETRIES))
    with Fetcher(settings) as fetcher, _Readers(config, fetcher) as readers:
        for spec in specs:
            try:
                captured, status = _capture(readers.for_spec(spec), settings, spec, quiet=True)
            except MonitorError as exc:
                yield Unread(spec.url, str(exc), exc.exit_code)
                continue
            document = captured.document
            if not document.paragraphs and not captured.items:
                yield Unread(spec.url, one_line(f"{spec.url}: no text to watch on the page (a "
                             "page its browser builds with JavaScript? a --selector that "
                             "keeps nothing?)"), FetchFailed.exit_code)
                continue
            first = document.paragraphs[0] if document.paragraphs else captured.items[0].title
            yield Probe(
                spec=spec, status=status, final_url=captured.final_url,
                redirected=bool(captured.redirects)
                and same_url(captured.final_url) != same_url(spec.url),
                title=one_line(document.title, SHOWN_LINE) if document.title else None,
                first_line=one_line(first, SHOWN_LINE) or None, item_count=len(captured.items),
                kind_guessed=None if kind_given else catalog.guessed_kind(spec.url)[1])


class _Readers:
    """The plain fetcher, and a rendering one made when a source asks for it
    (`--render`), closed with its browser when the probe ends."""

    def __init__(self, config: Config, fetcher: Fetcher) -> None:
        self.config, self.fetcher = config, fetcher
        self.renderer: Fetcher | None = None

    def for_spec(self, spec: SourceConfig) -> Fetcher:
        if not (spec.render or spec.screenshot):  # a picture is taken by the browser
            return self.fetcher
        if self.renderer is None:
            from monitor.render.fetcher import RenderingFetcher
            from monitor.render.settings import render_settings

            self.renderer = RenderingFetcher(self.fetcher.settings, render_settings(self.config),
                                             shares=self.fetcher)
        return self.renderer

    def __enter__(self) -> _Readers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.renderer is not None:
            self.renderer.close()


def _capture(fetcher: Fetcher, settings: FetchSettings, spec: SourceConfig, *,
             quiet: bool = False, label: adding.Label = adding.option) -> tuple[Capture, int]:
    """The source read once, and the HTTP status of the answer the read ended on.
    `quiet`: a crash's traceback is logged at debug level (a command line shows one
    line), not as an error (the web app's log keeps it). An html page that is an
    empty JavaScript application is a FetchFailed that says so (monitor.sources.shell)."""
    source = SourceSpec(
        name=spec.name, url=spec.url, kind=spec.kind, language=spec.language,
        selector=spec.selector, ignore=spec.ignore, follow=spec.follow,
        options={key: value for key in catalog.CONFIGURED_OPTIONS
                 if (value := getattr(spec, key)) not in (None, "")},
    )
    adapter = adapter_for(spec.kind)
    try:  # the fetches of one read (a gov.kz challenge, then the API) share a check's budget
        with trace.tracing() as seen, check_scope(CHECK_DEADLINES * settings.deadline):
            captured = adapter.capture(source, fetcher, None)
    except FetchFailed as exc:
        if exc.kind in SHELL_FAILURES:  # nothing read: was it a JavaScript application?
            _refuse_shell(source, seen.body, label)
        raise
    except MonitorError:
        raise
    except Exception as exc:  # a page that trips a bug ends the preview, not the app
        log.log(logging.DEBUG if quiet else logging.ERROR, "preview of %s crashed", spec.url,
                exc_info=True)
        raise PreviewFailed(f"{one_line(spec.url)}: the page could not be read "
                            f"({type(exc).__name__})") from None
    if not isinstance(captured, Capture):  # pragma: no cover - no validators were sent
        raise PreviewFailed(f"{one_line(spec.url)}: the server sent nothing to read")
    if "html" in captured.content_type:  # a loader's "Loading…" may be all it read
        _refuse_shell(source, captured.raw, label)
    return captured, seen.status


def _refuse_shell(source: SourceSpec, body: bytes | None, label: adding.Label) -> None:
    """FetchFailed saying that the page is an empty JavaScript application, which a
    browser reads (`render`), when it is one and the source does not render already."""
    if renders(source.options) or not body or (shell := page_shell(body)) is None:
        return
    raise FetchFailed("empty", f"{source.url} looks like a JavaScript application "
                      f"({shell.said()}): add it with {label('render')} to read it in a browser")


def _noise(captured: Capture, spec: SourceConfig) -> OneLoad | None:
    try:
        return one_load(decode(captured.raw, None), spec.ignore, captured.document)
    except Exception:  # the text was read; only the look at its noise failed
        log.exception("preview of %s: the page's noise could not be read", spec.url)
        return None
