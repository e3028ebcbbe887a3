"""The catalog of monitored sources: register, reconfigure, pause, resume, remove.

Every change to a source is an event in that source's stream; the `sources`
projection is only a view of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.config import SourceConfig, valid_name
from monitor.errors import ConcurrencyConflict, UsageError
from monitor.events import (
    Event,
    SourcePaused,
    SourceReconfigured,
    SourceRegistered,
    SourceRemoved,
    SourceResumed,
)
from monitor.store import EventStore
from monitor.store.queries import get_source, source_by_stream

_GOVKZ_ARTICLE = re.compile(r"/memleket/entities/([^/]+)/press/news/details/([^/?#]+)")


@dataclass(frozen=True)
class Registration:
    name: str
    created: bool  # False: it existed already (maybe reconfigured)
    reconfigured: tuple[str, ...] = ()
    removed: bool = False  # it was removed for good; nothing was recorded


# A document file is known by its name's suffix; any other file needs --kind.
_FILE_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}


def guess_kind(url: str) -> str:
    path = urlsplit(url).path
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _FILE_SUFFIXES:
        return _FILE_SUFFIXES[suffix]
    if _GOVKZ_ARTICLE.search(path):
        return "govkz"
    if re.search(r"/memleket/entities/[^/]+/press/news/?$", path) or "content-manager/news" in path:
        return "govkz-list"
    return "html"


def derive_name(url: str, kind: str) -> str:
    """A readable, stable name from a URL: govkz-mfa-12345-en, or host-path."""
    parts = urlsplit(url)
    match = _GOVKZ_ARTICLE.search(parts.path)
    if match:
        lang = parse_qs(parts.query).get("lang", [""])[0]
        name = f"govkz-{match.group(1)}-{match.group(2)}" + (f"-{lang}" if lang else "")
    else:
        words = re.findall(r"[A-Za-z0-9]+", parts.netloc.removeprefix("www.") + " " + parts.path)
        name = "-".join(words)[:80] or "source"
        if kind == "govkz-list":
            name = "list-" + name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:120]


def language_variants(url: str, languages: list[str]) -> list[tuple[str, str]]:
    """(language, URL) for each language of one gov.kz article page."""
    parts = urlsplit(url)
    if not _GOVKZ_ARTICLE.search(parts.path):
        raise UsageError(f"{url}: --languages needs a gov.kz article URL (…/news/details/ID)")
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "lang"}
    variants = []
    for lang in languages:
        pairs = [f"{k}={v[0]}" for k, v in query.items()] + [f"lang={lang}"]
        variants.append((lang, parts._replace(query="&".join(pairs)).geturl()))
    return variants


def register(
    store: EventStore, spec: SourceConfig, only: frozenset[str] | None = None
) -> Registration:
    """Register a source, or bring an existing one in line with `spec`.

    `only` limits which settings of an existing source may change (those a user
    named on the command line); None means all of them (the config file is the
    authority for the sources it lists). A removed source stays removed.
    """
    if not valid_name(spec.name):
        raise UsageError(f"source name {spec.name!r}: use letters, digits, '.', '_' or '-'")
    existing = source_by_stream(store.engine, spec.name)
    if existing is None:
        event = SourceRegistered(
            name=spec.name, url=spec.url, kind=spec.kind, interval_seconds=spec.interval_seconds,
            language=spec.language, selector=spec.selector, ignore=spec.ignore,
            follow=spec.follow, translation_of=spec.translation_of,
            options={"ca_bundle": spec.ca_bundle} if spec.ca_bundle else {},
        )
        try:
            store.append(spec.name, 0, [event])
            return Registration(spec.name, created=True)
        except ConcurrencyConflict:
            existing = source_by_stream(store.engine, spec.name)
            if existing is None:  # pragma: no cover - removed in between
                raise
    if existing.state == "removed":
        return Registration(spec.name, created=False, removed=True)
    changes = _differences(existing, spec)
    if only is not None:
        changes = {k: v for k, v in changes.items() if k in only}
    if changes:
        store.append(spec.name, existing.stream_version,
                     [SourceReconfigured(changes=changes, reason="configuration changed")])
    return Registration(spec.name, created=False, reconfigured=tuple(sorted(changes)))


def _differences(row: Any, spec: SourceConfig) -> dict[str, Any]:
    wanted = {
        "url": spec.url, "kind": spec.kind, "interval_seconds": spec.interval_seconds,
        "language": spec.language, "selector": spec.selector, "ignore": list(spec.ignore),
        "follow": spec.follow, "translation_of": spec.translation_of,
    }
    current = {key: getattr(row, key) for key in wanted}
    current["ignore"] = list(current["ignore"] or [])
    return {k: v for k, v in wanted.items() if current[k] != v}


def reconfigure(store: EventStore, name: str, reason: str = "", **changes: Any) -> None:
    row = get_source(store.engine, name)
    store.append(row.stream_id, row.stream_version,
                 [SourceReconfigured(changes=changes, reason=reason)])


def _transition(store: EventStore, name: str, event: Event, allowed: Iterable[str],
                already: Iterable[str]) -> bool:
    """Append `event` if the source is in an `allowed` state; False (and nothing
    written) when it is in an `already` state, where the event would change nothing."""
    row = get_source(store.engine, name)
    if row.state in already:
        return False
    if row.state not in allowed:
        raise UsageError(f"source {name!r} is {row.state}")
    store.append(row.stream_id, row.stream_version, [event])
    return True


def pause(store: EventStore, name: str, reason: str = "") -> bool:
    return _transition(store, name, SourcePaused(reason=reason), ("active", "failing", "gone"),
                       ("paused",))


def resume(store: EventStore, name: str) -> bool:
    return _transition(store, name, SourceResumed(), ("paused",), ("active", "failing", "gone"))


def remove(store: EventStore, name: str, reason: str = "") -> bool:
    return _transition(store, name, SourceRemoved(reason=reason),
                       ("active", "failing", "paused", "gone"), ("removed",))
