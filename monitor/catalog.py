"""The catalog of monitored sources: register, reconfigure, pause, resume, remove.

Every change to a source is an event in that source's stream; the `sources`
projection is only a view of them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.config import SourceConfig
from monitor.errors import ConcurrencyConflict, UsageError
from monitor.events import (
    Event,
    SourcePaused,
    SourceReconfigured,
    SourceRegistered,
    SourceRemoved,
    SourceResumed,
)
from monitor.naming import (
    GOVKZ_ARTICLE,
    SUFFIX_LENGTHS,
    derive_name,
    on_the_portal,
    same_url,
    with_suffix,
)
from monitor.sources.govkz_urls import DEFAULT_LANGUAGE, url_language
from monitor.store import EventStore
from monitor.store.queries import get_source, list_sources, source_by_stream
from monitor.store.rows import SourceRow
from monitor.tags import parse_tags, tags_of
from monitor.untrusted import one_line
from monitor.validation import (
    auth_env_problem,
    kind_url_problem,
    mask_problems,
    name_problem,
    parse_confirm,
    parse_interval,
    url_problem,
    valid_name,
)

__all__ = ["SourceNames", "derive_name", "guess_kind", "register", "source_name"]

# Settings kept in a source's `options` that come from its configuration (the rest of
# the options, such as `volatile_learned`, the monitor records itself).
CONFIGURED_OPTIONS = ("ca_bundle", "auth_env", "confirm", "tags", "render", "screenshot")


@dataclass(frozen=True)
class Registration:
    name: str
    created: bool  # False: it existed already (maybe reconfigured)
    reconfigured: tuple[str, ...] = ()
    removed: bool = False  # it was removed for good; nothing was recorded


# A document file is known by its name's suffix; any other file needs --kind.
_FILE_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}


# gov.kz pages read through the API: press releases, events, documents.
_GOVKZ_ITEM = re.compile(r"/memleket/entities/[^/]+/(?:press/news|press/events|documents)"
                         r"/details/[^/?#]+")


def guess_kind(url: str) -> str:
    return guessed_kind(url)[0]


def guessed_kind(url: str) -> tuple[str, str]:
    """The kind a URL is watched as when none is given, and what in the URL chose it."""
    path = urlsplit(url).path
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _FILE_SUFFIXES:
        return _FILE_SUFFIXES[suffix], f"the path ends in {suffix}"
    if not on_the_portal(url):
        return "html", "no other kind's address: a web page"
    if GOVKZ_ARTICLE.search(path) or _GOVKZ_ITEM.search(path):
        return "govkz", "a gov.kz article's address, read through the portal's API"
    if (re.search(r"/memleket/entities/[^/]+/press/news(?:/\d+)?/?$", path)
            or "content-manager/news" in path):
        return "govkz-list", "a gov.kz news list's address"
    return "html", "no other kind's address: a web page"


def chosen_language(url: str, kind: str, language: str | None) -> tuple[str | None, str | None]:
    """The language to watch a gov.kz URL in, and a note when the monitor chose it: a
    URL without `?lang` (and no --language) is watched in Russian, the portal's
    default, and the choice is kept in the source's settings."""
    if language or kind not in ("govkz", "govkz-list") or url_language(url):
        return language, None
    return DEFAULT_LANGUAGE, (f"{url} names no language (?lang=); watching its "
                              f"{DEFAULT_LANGUAGE} version (--language kk|en to choose)")


class SourceNames:
    """Which source watches a URL, and a name no other URL has for one that none
    watches. Read once, then kept in step by `claim`, so one `add` of many URLs gives
    each its own name without a query per URL."""

    def __init__(self, store: EventStore) -> None:
        rows = sorted(list_sources(store.engine, include_removed=True),
                      key=lambda row: row.registered_at)
        self._rows = {row.stream_id: row for row in rows}
        self._url_of = {row.stream_id: same_url(row.url) for row in rows}  # every name used
        self._watched_by: dict[str, str] = {}
        for row in rows:
            if row.state != "removed":
                self._watched_by.setdefault(same_url(row.url), row.stream_id)

    def name_for(self, url: str, kind: str) -> str:
        """The name of the source watching `url`; else its readable name, or, when
        another URL has that name, the readable name with a hash of the URL added."""
        key = same_url(url)
        watching = self._watched_by.get(key)
        if watching is not None:
            return watching
        readable = derive_name(url, kind)
        suffixed = (with_suffix(readable, url, n) for n in SUFFIX_LENGTHS)  # only if needed
        for name in itertools.chain((readable,), suffixed):
            if valid_name(name) and self._url_of.get(name, key) == key:
                return name
        return with_suffix("source", url, SUFFIX_LENGTHS[-1])  # pragma: no cover - sha256

    def row(self, name: str) -> Any:
        """The source's row as read at the start (None: none then)."""
        return self._rows.get(name)

    def taken(self, name: str) -> bool:
        """Whether a source (watched, paused or removed) has this name."""
        return name in self._url_of

    def claim(self, name: str, url: str, removed: bool = False) -> None:
        """`name` now stands for `url` (it was registered, or found)."""
        key = self._url_of[name] = same_url(url)
        if not removed:
            self._watched_by.setdefault(key, name)


def source_name(store: EventStore, url: str, kind: str) -> str:
    """The name for `url`: its source's, or a new one no other URL has."""
    return SourceNames(store).name_for(url, kind)


def source_problem(spec: SourceConfig) -> str | None:
    """The first setting of `spec` that cannot be used, as "key: problem". `add` and the
    config check the same things with the same functions first, naming their own keys;
    this guards every other way in (a list's followed items, the demo, code)."""
    try:
        parse_interval(spec.interval_seconds)
    except ValueError as exc:
        return f"interval: {exc}"
    try:
        if spec.confirm is not None:
            parse_confirm(spec.confirm)
    except ValueError as exc:
        return f"confirm: {exc}"
    try:
        parse_tags(list(spec.tags))
    except ValueError as exc:
        return f"tags: {exc}"
    from monitor.render.choice import render_problem

    checks = [("name", name_problem(spec.name)), ("url", url_problem(spec.url)),
              ("kind", kind_url_problem(spec.url, spec.kind)),
              *mask_problems(spec.selector, spec.ignore),
              ("auth_env", spec.auth_env and auth_env_problem(spec.auth_env, spec.kind)),
              render_problem(spec.kind, spec.render, spec.screenshot) or ("render", None)]
    return next((f"{key}: {problem}" for key, problem in checks if problem), None)


def language_variants(url: str, languages: list[str]) -> list[tuple[str, str]]:
    """(language, URL) for each language of one gov.kz article page."""
    parts = urlsplit(url)
    if not GOVKZ_ARTICLE.search(parts.path):
        raise UsageError(f"{url}: --languages needs a gov.kz article URL (…/news/details/ID)")
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "lang"}
    variants = []
    for lang in languages:
        pairs = [f"{k}={v[0]}" for k, v in query.items()] + [f"lang={lang}"]
        variants.append((lang, parts._replace(query="&".join(pairs)).geturl()))
    return variants


def register(
    store: EventStore, spec: SourceConfig, only: frozenset[str] | None = None,
    known: Any = None,
) -> Registration:
    """Register a source, or bring an existing one in line with `spec`.

    `only` limits which settings of an existing source may change (those a user
    named on the command line); None means all of them (the config file is the
    authority for the sources it lists). A removed source stays removed. `known`:
    the source's row as the caller read it (SourceNames.row), saving the lookup; a
    change written on a row gone stale meanwhile raises ConcurrencyConflict.
    """
    if problem := source_problem(spec):
        raise UsageError(f"source {spec.name!r}: {problem}")
    existing = known if known is not None else source_by_stream(store.engine, spec.name)
    if existing is None:
        try:
            store.append(spec.name, 0, [_registered(spec)])
            return Registration(spec.name, created=True)
        except ConcurrencyConflict:
            existing = source_by_stream(store.engine, spec.name)
            if existing is None:  # pragma: no cover - removed in between
                raise
    if existing.state == "removed":
        return Registration(spec.name, created=False, removed=True)
    if only is not None and same_url(existing.url) != same_url(spec.url):
        if "url" in only:  # the user named it: a name never moves to another page
            raise UsageError(
                f"--name {spec.name} already watches {one_line(existing.url)}; choose another "
                "--name for this page (a page that moved is removed and added again)")
        # A name the caller derived: another
        # `add` took it for another URL in the meantime. Say so; never merge the two.
        raise UsageError(f"the name {spec.name} was just taken by {existing.url}; run the "
                         "command again to give the page its own name")
    changes = _differences(existing, spec)
    if same_url(existing.url) == same_url(spec.url):
        changes.pop("url", None)  # another spelling of the same page: the stored one stays
    if only is not None:
        changes = {k: v for k, v in changes.items() if k in only}
    changed = sorted(changes)
    options = {k: changes.pop(k) for k in CONFIGURED_OPTIONS if k in changes}
    if options:  # recorded as the source's whole new `options`, as the projection keeps it
        kept = {k: v for k, v in (existing.options or {}).items() if k not in options}
        changes["options"] = {**kept, **{k: v for k, v in options.items() if _set(k, v)}}
    if changes:
        store.append(spec.name, existing.stream_version,
                     [SourceReconfigured(changes=changes, reason="configuration changed")])
    return Registration(spec.name, created=False, reconfigured=tuple(changed))


def register_new(store: EventStore, specs: Sequence[SourceConfig],
                 paused: Mapping[str, str] | None = None) -> None:
    """Register sources no stream has yet, all in one transaction (EventStore
    .append_many): what `register` records for each, checked the same way first.
    `paused`: names of those registered paused, with the reason (`monitor import` of a
    page paused in another tool). ConcurrencyConflict, and nothing written, when
    another writer took one of the names meanwhile."""
    for spec in specs:
        if problem := source_problem(spec):
            raise UsageError(f"source {spec.name!r}: {problem}")
    paused = paused or {}
    store.append_many([(spec.name, 0, [_registered(spec)] + (
        [SourcePaused(reason=paused[spec.name])] if spec.name in paused else []))
        for spec in specs])


def _registered(spec: SourceConfig) -> SourceRegistered:
    return SourceRegistered(
        name=spec.name, url=spec.url, kind=spec.kind, interval_seconds=spec.interval_seconds,
        language=spec.language, selector=spec.selector, ignore=spec.ignore,
        follow=spec.follow, translation_of=spec.translation_of,
        options=_configured_options(spec),
    )


def _configured_options(spec: SourceConfig) -> dict[str, Any]:
    return {k: v for k in CONFIGURED_OPTIONS if _set(k, v := _option(spec, k))}


def _option(spec: SourceConfig, key: str) -> Any:
    """A configured option as the projection keeps it (JSON: tags are a sorted list)."""
    value = getattr(spec, key)
    if key in ("render", "screenshot"):  # kept only when on, as a source without them was
        return True if value else None
    return sorted(set(value)) if key == "tags" else value


def _set(key: str, value: Any) -> bool:
    """Whether an option holds a setting: `confirm = 0` does (it turns off the default)."""
    return value is not None if key == "confirm" else bool(value)


def _differences(row: SourceRow, spec: SourceConfig) -> dict[str, Any]:
    """The settings of `spec` that differ from the source's; `options` it holds as
    their own keys (ca_bundle, auth_env, confirm, tags)."""
    wanted = {
        "url": spec.url, "kind": spec.kind, "interval_seconds": spec.interval_seconds,
        "language": spec.language, "selector": spec.selector, "ignore": list(spec.ignore),
        "follow": spec.follow, "translation_of": spec.translation_of,
        **{k: _option(spec, k) for k in CONFIGURED_OPTIONS},
    }
    options = row.options or {}
    current = {key: options.get(key) if key in CONFIGURED_OPTIONS else getattr(row, key)
               for key in wanted}
    current["ignore"] = list(current["ignore"] or [])
    current["tags"] = list(tags_of(options))
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
