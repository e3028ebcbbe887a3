"""Documents with versions, recorded through the event store as the checker records
them: for the search tests."""

from __future__ import annotations

from typing import Any

from monitor.document import Document
from monitor.events import BaselineImported, SourceRegistered, VersionCaptured
from monitor.store import EventStore
from monitor.store.snapshots import Blob

ABOLISHED = ("В 2021 году смертная казнь в Республике Казахстан отменена; "
             "Конституция это закрепила.")
KAZAKH = "ҚАЗАҚСТАН РЕСПУБЛИКАСЫНЫҢ Конституциясы: адам құқықтары мен бостандықтары."


def canonical(title: str | None, *paragraphs: str) -> str:
    return Document(title, None, paragraphs).canonical_text()


def record(store: EventStore, name: str, *texts: str) -> None:
    """A source whose versions have these canonical texts (the first a baseline)."""
    store.append(name, 0, [SourceRegistered(name=name, url=f"http://127.0.0.1/{name}",
                                            kind="html", interval_seconds=60)])
    previous: str | None = None
    for number, body in enumerate(texts):
        blob = Blob.text(body, base=previous)
        title = Document.from_canonical(body).title
        event: Any = (BaselineImported(content_hash=blob.sha256, origin="test", title=title)
                      if number == 0 else
                      VersionCaptured(content_hash=blob.sha256, url=f"http://127.0.0.1/{name}",
                                      title=title))
        store.append(name, store.stream_version(name), [event], blobs=[blob])
        previous = blob.sha256
