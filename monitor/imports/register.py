"""From a file's entries to sources: each checked by `monitor add`'s own checks
(monitor.adding.checked), named as `add` names them, and all registered in one
transaction, or none. Nothing is fetched: an import does not probe its URLs.

A setting that cannot be used (a selector this monitor cannot compile, an interval
out of range, a name that is not a source name) is reported and left out; an entry
whose URL cannot be watched (not http(s), a password in it, an internal address)
refuses the whole file, as `add --from-file` does, so nothing half-imported is left.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from monitor import adding, catalog
from monitor.adding import Wanted
from monitor.config import Config, SourceConfig
from monitor.errors import ConcurrencyConflict, UsageError
from monitor.imports import Entry, ImportFile
from monitor.naming import same_url
from monitor.store import EventStore
from monitor.tags import TAGS_MAX
from monitor.validation import mask_problems, name_problem, parse_interval, redacted

SHOWN_PROBLEMS = 20
TOOLS = {"urlwatch": "urlwatch", "changedetection": "changedetection.io", "opml": "OPML",
         "urls": "the list"}


@dataclass
class Outcome:
    """What became of one entry."""

    entry: Entry
    state: str  # "imported", "watched" (a source watches it already) or "skipped"
    name: str | None = None
    spec: SourceConfig | None = None
    reason: str | None = None  # for watched and skipped

    def data(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "where": self.entry.where, "state": self.state, "name": self.name,
            "url": spec.url if spec else self.entry.url and redacted(self.entry.url),
            "selector": spec.selector if spec else None,
            "ignore": list(spec.ignore) if spec else [],
            "interval_seconds": spec.interval_seconds if spec else None,
            "tags": list(spec.tags) if spec else [], "paused": self.entry.paused,
            "reason": self.reason, "not_carried_over": self.entry.dropped,
            "changed": self.entry.changed,
        }


@dataclass(frozen=True)
class Checked:
    entry: Entry
    wanted: Wanted | None  # None: skipped


def checked(config: Config, imported: ImportFile, tags: tuple[str, ...],
            interval: str | None, file: str = "") -> list[Checked]:
    """Every entry's settings checked; the unusable ones reported on the entry and left
    out. UsageError naming every entry whose URL cannot be watched (in `file`)."""
    options = adding.checked(config, Wanted(urls=("https://example.com/",), tags=tags,
                                            interval=interval))  # --tag and --interval
    found, bad = [], []
    for entry in imported.entries:
        if entry.skipped or entry.url is None:
            found.append(Checked(entry, None))
            continue
        scheme = entry.url.partition(":")[0].strip().lower()
        if imported.format != "urls" and scheme not in ("http", "https") and "/" not in scheme:
            # Another tool's file job or data: URL is one entry not carried over, not a
            # reason to refuse the pages beside it (a plain list is refused, as add's).
            entry.skipped = f"a {scheme}: URL (only http and https pages are watched)"
            found.append(Checked(entry, None))
            continue
        try:
            wanted = adding.checked(config, _wanted(entry, options.tags, interval))
        except UsageError as exc:
            bad.append(f"{entry.where}: {exc}")
            continue
        found.append(Checked(entry, wanted))
    if len(bad) == 1:
        raise UsageError(f"{file}{': ' if file else ''}{bad[0]}; nothing was imported")
    if bad:
        shown = "\n".join(f"  {problem}" for problem in bad[:SHOWN_PROBLEMS])
        more = len(bad) - SHOWN_PROBLEMS
        raise UsageError(f"{file}{': ' if file else ''}{len(bad)} entries cannot be "
                         "watched, so nothing was imported:\n"
                         + shown + (f"\n  … and {more} more" if more > 0 else ""))
    return found


def _wanted(entry: Entry, tags: tuple[str, ...], interval: str | None) -> Wanted:
    if entry.selector and (problems := mask_problems(entry.selector, ())):
        entry.dropped.append(f"selector: {problems[0][1]}; the whole page is watched")
        entry.selector = None
    kept = []
    for mask in entry.ignore:
        if problems := mask_problems(None, (mask,)):
            entry.dropped.append(f"ignore: {problems[0][1]}")
        else:
            kept.append(mask)
    seconds = entry.interval_seconds
    if seconds is not None:
        try:
            parse_interval(f"{seconds}s")
        except ValueError as exc:
            entry.dropped.append(f"interval: {exc}; the default is used")
            seconds = None
    all_tags = list(dict.fromkeys((*entry.tags, *tags)))
    if len(all_tags) > TAGS_MAX:
        entry.dropped.append(f"tags {', '.join(all_tags[TAGS_MAX:])}: a source has at most "
                             f"{TAGS_MAX}")
    return Wanted(urls=(entry.url or "",), selector=entry.selector, ignore=tuple(kept),
                  interval=f"{seconds}s" if seconds is not None else interval,
                  tags=tuple(all_tags[:TAGS_MAX]))


def imported(store: EventStore, config: Config, entries: list[Checked], tool: str,
             dry_run: bool = False) -> list[Outcome]:
    """Each entry's outcome; the new sources registered in one transaction (none when
    `dry_run`). A page watched already keeps its settings."""
    names = catalog.SourceNames(store)
    seen: dict[str, str] = {}
    outcomes, specs, paused = [], [], {}
    for item in entries:
        entry, wanted = item.entry, item.wanted
        if wanted is None:
            outcomes.append(Outcome(entry, "skipped", reason=entry.skipped or "no url"))
            continue
        url = wanted.urls[0]
        if (key := same_url(url)) in seen:
            outcomes.append(Outcome(entry, "skipped", reason=f"the same page as {seen[key]}"))
            continue
        seen[key] = entry.where
        found = names.name_for(url, catalog.guess_kind(url))
        if names.taken(found):
            row = names.row(found)
            removed = row is not None and row.state == "removed"
            outcomes.append(Outcome(entry, "skipped" if removed else "watched", found, reason=(
                f"{found} was removed earlier and stays removed" if removed else
                f"already watched as {found}; its settings are kept")))
            continue
        name = _name(entry, names, found)
        plan = next(adding.planned(names, config, replace(wanted, name=name)))
        names.claim(name, url)
        if plan.note:
            entry.changed.append(plan.note)
        specs.append(plan.spec)
        if entry.paused:
            paused[name] = f"paused in {TOOLS.get(tool, tool)} when imported"
        outcomes.append(Outcome(entry, "imported", name, plan.spec))
    if specs and not dry_run:
        try:
            catalog.register_new(store, specs, paused)
        except ConcurrencyConflict:
            raise UsageError("another writer registered a source while this import ran; "
                             "nothing was imported: run the import again") from None
    return outcomes


def _name(entry: Entry, names: catalog.SourceNames, derived: str) -> str:
    """The name the file gives the page when it can name a source here, else `derived`."""
    if not entry.name:
        return derived
    given = unicodedata.normalize("NFC", entry.name.strip())
    if name_problem(given):
        entry.changed.append(f"name {given!r}: not a source name here; named {derived}")
        return derived
    if names.taken(given):
        entry.changed.append(f"name {given!r}: another source has it; named {derived}")
        return derived
    return given
