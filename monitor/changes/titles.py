"""A document's title as people see it: first, before the source's name.

Titles are page text, untrusted: here they become one line with no control or
direction-override characters, capped in length. HTML and markdown renderers
escape the result as they escape any page text.
"""

from __future__ import annotations

import re

from monitor.changes.record import ChangeRecord

MAX_TITLE = 100  # characters of a title in a subject line or a heading
UNKNOWN = "title unknown"
# C0 and C1 controls, DEL, line and paragraph separators, bidi embeddings,
# overrides and isolates (they reorder what a reader sees), lone surrogates.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")


def one_line(text: str, limit: int | None = None) -> str:
    """Page text as one line: controls out, whitespace runs as one space, cut
    with an ellipsis past `limit` characters."""
    line = " ".join(_HIDDEN.sub(" ", text).split())
    if limit is not None and len(line) > limit:
        return line[:limit - 1].rstrip() + "…"
    return line


def label(title: str | None, source: str, *, change: tuple[str, str] | None = None,
          limit: int = MAX_TITLE) -> str:
    """'Title (source)'; 'Old → New (source)' for a title change; 'source (title
    unknown)' when no capture has had a title."""
    if change is not None:
        half = max(limit // 2, 10)
        return f"{one_line(change[0], half)} → {one_line(change[1], half)} ({one_line(source)})"
    shown = one_line(title or "", limit)
    return f"{shown} ({one_line(source)})" if shown else f"{one_line(source)} ({UNKNOWN})"


def record_label(record: ChangeRecord, limit: int = MAX_TITLE) -> str:
    return label(record.title, record.source, change=record.title_change, limit=limit)
