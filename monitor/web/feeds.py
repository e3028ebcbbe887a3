"""The live Atom feeds: every change, one source's, or those of the sources with a tag.

Each is the report's Atom (monitor/report/atom.py) over the newest changes, with an id
that names what the feed selects, never the host that serves it (a reader that follows
the feed to another address keeps its entries), `rel="self"` with the URL it was read
at, and entries that link to the app's diff pages.

Tags are the sources' `options["tags"]` (a list of strings); anything else there is
read as no tag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, select

from monitor.i18n import Reader
from monitor.report.atom import feed_id, report_atom
from monitor.report.filters import ReportFilter
from monitor.report.gather import gather_report
from monitor.store.schema import sources

ENTRIES = 50  # the newest changes a feed holds
ALL, SOURCE, TAG = "all", "source", "tag"


@dataclass(frozen=True)
class Feed:
    kind: str  # all | source | tag
    value: str = ""  # the source's name or the tag

    @property
    def key(self) -> str:
        """How public marks name it: "all", "source:NAME" or "tag:TAG"."""
        return ALL if self.kind == ALL else f"{self.kind}:{self.value}"

    @property
    def path(self) -> str:
        if self.kind == SOURCE:
            return f"/feeds/sources/{quote(self.value, safe='')}.atom"
        if self.kind == TAG:
            return f"/feeds/tags/{quote(self.value, safe='')}.atom"
        return "/feeds/all.atom"

    @property
    def id(self) -> str:
        return feed_id(self.value if self.kind == SOURCE else None, None,
                       self.value if self.kind == TAG else None)

    @property
    def title(self) -> str:
        if self.kind == SOURCE:
            return f"changes of {self.value}"
        if self.kind == TAG:
            return f"changes of the sources tagged {self.value}"
        return "all changes"


EVERY_CHANGE = Feed(ALL)


def feed_of_key(key: str) -> Feed | None:
    """The feed a public mark names, or None for a key that names none."""
    if key == ALL:
        return EVERY_CHANGE
    kind, _, value = key.partition(":")
    if kind in (SOURCE, TAG) and value and len(key) <= 300:
        return Feed(kind, value)
    return None


def feed_of_path(params: Mapping[str, Any]) -> Feed:
    """The feed a route's path names: `{source}`, `{tag}`, or neither for all."""
    if "source" in params:
        return Feed(SOURCE, str(params["source"]))
    if "tag" in params:
        return Feed(TAG, str(params["tag"]))
    return EVERY_CHANGE


def tags_of(options: object) -> tuple[str, ...]:
    """A source's tags, read defensively: a list of non-empty strings, else none."""
    found = options.get("tags", []) if isinstance(options, dict) else []
    if isinstance(found, str):
        found = [found]
    if not isinstance(found, list | tuple):
        return ()
    return tuple(dict.fromkeys(t.strip() for t in found if isinstance(t, str) and t.strip()))


def sources_by_tag(engine: Engine) -> dict[str, list[str]]:
    """Tag -> the names of the sources that have it (removed ones too: their changes
    stay in the record), tags in order."""
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name, options in conn.execute(select(sources.c.name, sources.c.options)
                                          .order_by(sources.c.name)):
            for tag in tags_of(options):
                found.setdefault(tag, []).append(name)
    return dict(sorted(found.items()))


def feed_sources(engine: Engine, feed: Feed) -> set[str] | None:
    """The names of the sources the feed follows (None: all of them); an empty set
    when it names no source, or a tag no source has."""
    if feed.kind == SOURCE:
        with engine.connect() as conn:
            known = conn.execute(select(sources.c.name)
                                 .where(sources.c.name == feed.value)).first()
        return {feed.value} if known is not None else set()
    if feed.kind == TAG:
        return set(sources_by_tag(engine).get(feed.value, []))
    return None


def feed_atom(engine: Engine, feed: Feed, names: set[str] | None, site: str,
              now: datetime, reader: Reader) -> str:
    """The feed's Atom document as read at `site` (the app's base URL) now; `reader`:
    the timezone of the times in its texts."""
    report = gather_report(engine, ReportFilter(), now, site, only=names, latest=ENTRIES)
    return report_atom(report, feed_key=feed.id, title=feed.title, self_url=site + feed.path,
                       pages=site, reader=reader)
