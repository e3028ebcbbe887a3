"""What adding a URL would watch, shown before anything is recorded: the page fetched
once by the monitor's fetcher (its address policy, size cap and deadline) and read by
the source's adapter, as a check reads it, with what that one load shows of the
page's noise (monitor.sources.one_load). Nothing is written to the store."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from monitor import adding, catalog
from monitor.check import CHECK_DEADLINES
from monitor.config import Config, SourceConfig
from monitor.content import decode
from monitor.errors import MonitorError, UsageError
from monitor.fetch import Fetcher
from monitor.naming import same_url
from monitor.netguard import check_scope
from monitor.one_check import fetch_settings
from monitor.sources import adapter_for
from monitor.sources.base import Capture, ListedItem, SourceSpec, learns_volatile
from monitor.sources.one_load import OneLoad, one_load
from monitor.store import EventStore
from monitor.store.queries import source_by_stream
from monitor.untrusted import one_line

log = logging.getLogger("monitor.preview")

SHOWN_PARAGRAPHS = 8
SHOWN_ITEMS = 10


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
    captured = _capture(config, spec)
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


def _capture(config: Config, spec: SourceConfig) -> Capture:
    source = SourceSpec(
        name=spec.name, url=spec.url, kind=spec.kind, language=spec.language,
        selector=spec.selector, ignore=spec.ignore, follow=spec.follow,
        options={key: value for key in catalog.CONFIGURED_OPTIONS
                 if (value := getattr(spec, key)) not in (None, "")},
    )
    adapter = adapter_for(spec.kind)
    settings = fetch_settings(config)
    try:  # the fetches of one read (a gov.kz challenge, then the API) share a check's budget
        with Fetcher(settings) as fetcher, check_scope(CHECK_DEADLINES * settings.deadline):
            captured = adapter.capture(source, fetcher, None)
    except MonitorError:
        raise
    except Exception as exc:  # a page that trips a bug ends the preview, not the app
        log.exception("preview of %s crashed", spec.url)
        raise PreviewFailed(f"{one_line(spec.url)}: the page could not be read "
                            f"({type(exc).__name__})") from None
    if not isinstance(captured, Capture):  # pragma: no cover - no validators were sent
        raise PreviewFailed(f"{one_line(spec.url)}: the server sent nothing to read")
    return captured


def _noise(captured: Capture, spec: SourceConfig) -> OneLoad | None:
    try:
        return one_load(decode(captured.raw, None), spec.ignore, captured.document)
    except Exception:  # the text was read; only the look at its noise failed
        log.exception("preview of %s: the page's noise could not be read", spec.url)
        return None
