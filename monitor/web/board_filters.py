"""What the board is asked to show: its filters, read from the query string (so a
filtered board is a link to share) and written back into links (counts, pages)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from monitor.tags import tag_problem
from monitor.web.speech import gettext

STATES = ("active", "failing", "paused", "gone", "removed")
SIGNIFICANCES = ("high", "medium", "low")
TEXT_MAX = 200
PAGE_MAX = 100_000
PARAMETERS = ("state", "significance", "kind", "tag", "q", "page")


class BadFilter(ValueError):
    """A filter value the board cannot use; the message is one line for the reader."""


@dataclass(frozen=True)
class BoardFilter:
    state: str | None = None  # None: every state but removed
    significance: str | None = None  # of the latest change
    kind: str | None = None
    tag: str | None = None
    text: str | None = None  # in the title, the name or the URL (`q`)
    page: int = 1

    def query(self, **changes: Any) -> str:
        """The query string of this board with `changes` (a new filter starts at page 1)."""
        wanted = replace(self, **({"page": 1} | changes))
        pairs = [("state", wanted.state), ("significance", wanted.significance),
                 ("kind", wanted.kind), ("tag", wanted.tag), ("q", wanted.text),
                 ("page", str(wanted.page) if wanted.page != 1 else None)]
        return urlencode([(key, value) for key, value in pairs if value])

    def link(self, **changes: Any) -> str:
        """The board's address with this filter and `changes`."""
        query = self.query(**changes)
        return f"/?{query}" if query else "/"

    @property
    def narrowed(self) -> bool:
        return any((self.state, self.significance, self.kind, self.tag, self.text))


def read_filter(params: Mapping[str, str], kinds: Any) -> BoardFilter:
    """The board's filter from query parameters (an empty one is no filter); raises
    BadFilter naming the parameter and what it may be."""
    state = _choice(params, "state", STATES)
    significance = _choice(params, "significance", SIGNIFICANCES)
    kind = _choice(params, "kind", tuple(sorted(kinds)))
    tag = _value(params, "tag")
    if tag is not None:
        tag = unicodedata.normalize("NFC", tag)
        if problem := tag_problem(tag):
            raise BadFilter(gettext("tag: %(problem)s", problem=problem))
    text = _value(params, "q")
    if text is not None:
        text = unicodedata.normalize("NFC", text.strip())
        if len(text) > TEXT_MAX:
            raise BadFilter(gettext("q: at most %(most)d characters", most=TEXT_MAX))
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise BadFilter(gettext("q: control characters cannot be searched for"))
    return BoardFilter(state, significance, kind, tag, text or None, _page(params))


def not_one_of(key: str, value: str, allowed: tuple[str, ...]) -> str:
    """'state: 'bogus' is not one of active, failing': the parameter, the value, the codes."""
    return gettext("%(key)s: %(value)s is not one of %(allowed)s", key=key, value=repr(value),
                   allowed=", ".join(allowed))


def _value(params: Mapping[str, str], key: str) -> str | None:
    value = params.get(key)
    return value if value else None


def _choice(params: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str | None:
    value = _value(params, key)
    if value is not None and value not in allowed:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise BadFilter(not_one_of(key, shown, allowed))
    return value


def _page(params: Mapping[str, str]) -> int:
    value = _value(params, "page")
    if value is None:
        return 1
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or \
            not 1 <= int(value) <= PAGE_MAX:
        raise BadFilter(gettext("page: must be a whole number from 1 to %(most)d",
                                most=PAGE_MAX))
    return int(value)
