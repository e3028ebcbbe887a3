"""A document's title as people see it: first, before the source's name.

Titles are page text, untrusted: here they become one line with no control or
direction-override characters (monitor.untrusted.one_line), capped in length. HTML
and markdown renderers escape the result as they escape any page text.
"""

from __future__ import annotations

from monitor.changes.record import ChangeRecord
from monitor.untrusted import one_line

MAX_TITLE = 100  # characters of a title in a subject line or a heading
UNKNOWN = "title unknown"


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
