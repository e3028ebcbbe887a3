"""Adding sources: what `monitor add` and the web app's "Add a source" do. Every
setting is checked before anything is written, each URL gets its name (monitor.catalog
.SourceNames), and each source is recorded as SourceRegistered by monitor.catalog."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from monitor import catalog
from monitor.addresses import url_refusal
from monitor.config import Config, SourceConfig
from monitor.errors import ConcurrencyConflict, UsageError
from monitor.naming import registered_url
from monitor.render.choice import render_problem
from monitor.store import EventStore
from monitor.tags import parse_tags
from monitor.validation import (
    auth_env_problem,
    kind_url_problem,
    mask_problems,
    name_problem,
    parse_confirm,
    parse_interval,
    url_problem,
)

SHOWN_PROBLEMS = 20  # bad URLs listed by one refusal of a list

# How a message names a setting: the CLI says `--interval`, a form says `interval`.
Label = Callable[[str], str]


def option(key: str) -> str:
    return f"--{key}"


@dataclass(frozen=True)
class Wanted:
    """What the user asked to watch, as given (unchecked); None: not given."""

    urls: tuple[str, ...]
    name: str | None = None
    kind: str | None = None
    interval: str | None = None  # "15m", "1h"; None: the config's default
    selector: str | None = None
    language: str | None = None
    ignore: tuple[str, ...] = ()
    follow: bool = False
    languages: str | None = None  # "ru,kk,en": a gov.kz article's language versions
    auth_env: str | None = None
    confirm: str | None = None
    tags: tuple[str, ...] = ()  # monitor.tags; checked: NFC, sorted, once each
    render: bool = False  # read in a browser (monitor.render)
    screenshot: bool = False

    def named(self) -> frozenset[str]:
        """The settings the user named; an existing source keeps every other one."""
        return frozenset(key for key, given in (
            ("interval_seconds", self.interval), ("kind", self.kind),
            ("selector", self.selector), ("language", self.language or self.languages),
            ("ignore", self.ignore), ("follow", self.follow), ("url", self.name),
            ("translation_of", self.languages), ("auth_env", self.auth_env),
            ("confirm", self.confirm), ("tags", self.tags), ("render", self.render),
            ("screenshot", self.screenshot)) if given)


@dataclass(frozen=True)
class Planned:
    """One source an add would register, and a note when the monitor chose its language."""

    spec: SourceConfig
    note: str | None = None


@dataclass
class Added:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def checked(config: Config, wanted: Wanted, label: Label = option) -> Wanted:
    """`wanted` with its URLs in the form they are registered in and its name in NFC,
    every setting checked by the functions the config uses. UsageError naming the
    first bad setting."""
    urls = tuple(registered_url(url.strip()) for url in wanted.urls)
    if not urls:
        raise UsageError("give at least one URL, or --from-file FILE")
    if wanted.name and len(urls) > 1:
        raise UsageError(f"{label('name')} needs exactly one URL")
    name = unicodedata.normalize("NFC", wanted.name) if wanted.name else wanted.name
    wanted = replace(wanted, urls=urls, name=name)
    _refuse_bad_urls(urls, config.fetch.allow_private_networks)
    if name is not None and (problem := name_problem(name)):
        raise UsageError(f"{label('name')}: {problem}")
    if wanted.kind is not None:
        from monitor.sources import KINDS

        if wanted.kind not in KINDS:
            raise UsageError(f"{label('kind')}: unknown kind {wanted.kind!r} "
                             f"(known: {', '.join(sorted(KINDS))})")
    if problems := mask_problems(wanted.selector, wanted.ignore):
        raise UsageError(f"{label(problems[0][0])}: {problems[0][1]}")
    if wanted.auth_env:
        for kind in {wanted.kind or catalog.guess_kind(url) for url in urls}:
            if problem := auth_env_problem(wanted.auth_env, kind):
                raise UsageError(f"{label('auth-env')}: {problem}")
    for kind in {wanted.kind or catalog.guess_kind(url) for url in urls}:
        if refused := render_problem(kind, wanted.render, wanted.screenshot):
            raise UsageError(f"{label(refused[0])}: {refused[1]}")
    for url in urls if wanted.kind else ():
        if problem := kind_url_problem(url, wanted.kind or ""):
            raise UsageError(f"{label('kind')}: {problem}")
    interval_seconds(config, wanted, label)
    confirm_seconds(wanted, label)
    try:
        wanted = replace(wanted, tags=parse_tags(list(wanted.tags)))
    except ValueError as exc:
        raise UsageError(f"{label('tag')}: {exc}") from None
    return wanted


def _refuse_bad_urls(urls: tuple[str, ...], allow_private: bool) -> None:
    """UsageError naming every URL that cannot be watched: a list from a file is
    refused with all its bad lines at once, so that one edit fixes them all."""
    bad = [problem for url in urls
           if (problem := url_problem(url) or url_refusal(url, allow_private))]
    if len(bad) == 1:
        raise UsageError(bad[0])
    if bad:
        raise UsageError(none_added(bad, len(urls), "cannot be watched"))


def none_added(problems: list[str], total: int, cannot: str, after: str = "") -> str:
    """The refusal of a list of URLs of which some cannot be added: how many, then each
    problem on a line of its own (the first SHOWN_PROBLEMS)."""
    shown = "\n".join(f"  {problem}" for problem in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return (f"{len(problems)} of {total} URLs {cannot}, so none was added{after}:\n{shown}"
            + (f"\n  … and {more} more" if more > 0 else ""))


def interval_seconds(config: Config, wanted: Wanted, label: Label = option) -> int:
    if wanted.interval is None:  # '' is a mistake (an unset variable in a script), not the default
        return config.default_interval
    try:
        return parse_interval(wanted.interval)
    except ValueError as exc:
        raise UsageError(f"{label('interval')}: {exc}") from None


def confirm_seconds(wanted: Wanted, label: Label = option) -> float | None:
    if wanted.confirm is None:
        return None
    try:
        return parse_confirm(wanted.confirm)
    except ValueError as exc:
        raise UsageError(f"{label('confirm')}: {exc}") from None


def planned(names: catalog.SourceNames, config: Config, wanted: Wanted) -> Iterator[Planned]:
    """The sources `wanted` (checked) stands for, in order, each named when it comes
    up: the caller claims each name before taking the next (`add`)."""
    seconds = interval_seconds(config, wanted)
    confirm = confirm_seconds(wanted)
    for url in wanted.urls:
        kind = wanted.kind or catalog.guess_kind(url)
        chosen, chose_note = catalog.chosen_language(url, kind, wanted.language)
        variants = [(chosen, url)]
        if wanted.languages:
            languages = [x.strip() for x in wanted.languages.split(",") if x.strip()]
            variants = list(catalog.language_variants(url, languages))
        first: str | None = None
        for language, variant_url in variants:
            if wanted.name:
                name = f"{wanted.name}-{language}" if wanted.languages else wanted.name
            else:
                name = names.name_for(variant_url, kind)
            spec = SourceConfig(
                name=name, url=variant_url, kind=kind, interval_seconds=seconds,
                language=language, selector=wanted.selector, ignore=tuple(wanted.ignore),
                follow=wanted.follow, translation_of=first, auth_env=wanted.auth_env,
                confirm=confirm, tags=wanted.tags, render=wanted.render,
                screenshot=wanted.screenshot,
            )
            yield Planned(spec, None if wanted.languages else chose_note)
            first = first or name


BATCH = 2000  # new sources registered in one transaction


def add(store: EventStore, config: Config, wanted: Wanted, label: Label = option, *,
        checked_already: bool = False, names: catalog.SourceNames | None = None) -> Added:
    """Register what `wanted` asks for; a source watched already keeps the settings
    the user did not name. Nothing is written unless every setting is good. New
    sources are written BATCH to a transaction (a list of 100,000 URLs is a minute,
    not the ten a commit each took); sources watched already go one by one.
    `checked_already`: `wanted` is what `checked` returned (not checked twice); `names`:
    the store's names, read by the caller for this add (a second read of 100,000 costs
    seconds)."""
    if not checked_already:
        wanted = checked(config, wanted, label)
    names = catalog.SourceNames(store) if names is None else names
    done = Added()
    batch: list[Planned] = []
    for plan in planned(names, config, wanted):
        spec = plan.spec
        if not names.taken(spec.name):
            names.claim(spec.name, spec.url)
            batch.append(plan)
            if len(batch) >= BATCH:
                _register_new(store, batch, wanted, done, label)
                batch = []
            continue
        _register_new(store, batch, wanted, done, label)  # first: the log keeps the
        batch = []  # list's order (and a page listed twice is compared with its source)
        removed = _register(store, plan, wanted, done, label, names.row(spec.name))
        names.claim(spec.name, spec.url, removed=removed)
    _register_new(store, batch, wanted, done, label)
    return done


def _register_new(store: EventStore, batch: list[Planned], wanted: Wanted, done: Added,
                  label: Label) -> None:
    """Sources no one had named when the add began, in one transaction; if another
    writer took one of the names meanwhile, each is registered on its own instead."""
    if not batch:
        return
    try:
        catalog.register_new(store, [plan.spec for plan in batch])
    except ConcurrencyConflict:
        for plan in batch:
            _register(store, plan, wanted, done, label)
        return
    for plan in batch:
        done.added.append(plan.spec.name)
        if plan.note:
            done.notes.append(f"{plan.spec.name}: {plan.note}")


def _register(store: EventStore, plan: Planned, wanted: Wanted, done: Added,
              label: Label, known: Any = None) -> bool:
    """One source, as `catalog.register` does it; whether it stays removed. `known`:
    its row as read when the add began (no query a source); read again if stale."""
    spec = plan.spec
    try:
        registration = catalog.register(store, spec, only=wanted.named(), known=known)
    except ConcurrencyConflict:
        if known is None:
            raise
        registration = catalog.register(store, spec, only=wanted.named())
    if registration.removed:
        done.notes.append(f"{spec.name} was removed earlier and stays removed (its history "
                          f"is kept); add the page under another {label('name')} to watch "
                          "it again")
    elif registration.created:
        done.added.append(spec.name)
        if plan.note:
            done.notes.append(f"{spec.name}: {plan.note}")
    else:
        done.existing.append(spec.name)
        changed = ", ".join(registration.reconfigured) or "nothing changed"
        done.notes.append(f"already watched as {spec.name} ({changed})")
    return registration.removed
