"""A store for the web app's tests of feeds and reports: the change story of
change_story.py (every kind of change, hostile titles among them) in a real SQLite
file, with tags on some sources, written as sources' `options["tags"]` are."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from change_story import Story, record_story

from monitor.events import SourceReconfigured
from monitor.store import EventStore, migrate, open_store

ATOM = "{http://www.w3.org/2005/Atom}"
# Source -> its options: two tagged "rights", one "notice" as a bare string, one with a
# value that is no list of tags at all (read as none).
TAGS: dict[str, dict[str, Any]] = {
    "mfa-press": {"tags": ["rights"]},
    "mfa-hostile": {"tags": ["rights", "<b>hostile</b>"]},
    "mfa-notice": {"tags": "notice"},
    "akorda-decrees": {"tags": 5},
}


def story_store(folder: Path) -> tuple[EventStore, Story]:
    store = open_store(f"sqlite:///{folder / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    story = record_story(store)
    tag_sources(store)
    return store, story


def copied_store(template: Path, folder: Path) -> EventStore:
    """A store of its own for one test: a copy of the file `story_store` made once."""
    shutil.copyfile(template, folder / "monitor.db")
    return open_store(f"sqlite:///{folder / 'monitor.db'}")


def tag_sources(store: EventStore) -> None:
    for name, options in TAGS.items():
        store.append(name, store.stream_version(name),
                     [SourceReconfigured(changes={"options": options})])


def entry_ids(feed_text: str) -> set[str]:
    """The event ids of a feed's entries."""
    feed = ET.fromstring(feed_text)
    return {re.sub(r"^urn:govkz-monitor:event:", "", e.findtext(f"{ATOM}id") or "")
            for e in feed.findall(f"{ATOM}entry")}


def section_ids(page: str) -> set[str]:
    """The event ids of the changes a report page shows."""
    return set(re.findall(r'id="event-([0-9a-f]+)"', page))
