"""What a list source listed at its current version: its items, as recorded.

A list's VersionCaptured keeps its items as data (schema 2). Versions recorded
before that (VersionCaptured 1, upcast with `items` None, or a BaselineImported)
kept them only in the version's text, one "YYYY-MM-DD title (id)" line each; for
those the items are read back from that text, here and nowhere else.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from monitor.events import VersionCaptured
from monitor.sources.base import ListedItem
from monitor.store.faults import translated
from monitor.store.mapper import to_event
from monitor.store.schema import events, versions
from monitor.store.snapshots import get_text

# The line a list's version held for each item before items were recorded as data.
_TEXT_LINE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}|\?{4}-\?{2}-\?{2}) (?P<title>.*?) ?"
                        r"\((?P<id>[^()\s]+)\)$")


def listed_items(engine: Engine, stream_id: str) -> tuple[ListedItem, ...]:
    """The items of the stream's current version, in the list's order (empty when it
    has no version)."""
    query = (select(versions.c.content_hash, events.c.type, events.c.schema_version,
                    events.c.data)
             .join(events, events.c.position == versions.c.event_position)
             .where(versions.c.stream_id == stream_id)
             .order_by(versions.c.document_version.desc()).limit(1))
    with translated(engine), engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            return ()
        event = to_event(row.type, row.schema_version, row.data)
        if isinstance(event, VersionCaptured) and event.items is not None:
            return tuple(ListedItem.from_data(item) for item in event.items)
        return items_in_text(get_text(conn, row.content_hash))


def items_in_text(canonical_text: str) -> tuple[ListedItem, ...]:
    """The items of a list version recorded before they were data: its text's lines."""
    found = []
    for line in canonical_text.split("\n"):
        match = _TEXT_LINE.match(line)
        if match:
            date = match["date"]
            found.append(ListedItem(item_id=match["id"], url="", title=match["title"],
                                    published=None if date.startswith("?") else date))
    return tuple(found)
