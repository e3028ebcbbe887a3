"""A source whose versions carry screenshots, recorded as a check records them (issue 15's
contract): the PNG and the layout JSON as raw blobs, named in the VersionCaptured's
evidence, appended with the version through the real EventStore.

v1 is a baseline (no screenshot); v2 changed, with a screenshot and its layout; v3
changed back in one word, its screenshot the very same PNG (stored once).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from PIL import Image, ImageDraw

from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import BaselineImported, ChangeDetected, SourceRegistered, VersionCaptured
from monitor.store import EventStore
from monitor.store.snapshots import Blob

NAME = "mfa-shots"
URL = "https://www.gov.kz/memleket/entities/mfa/press/news/details/9"
V1 = Document("Shown conference", "2025-12-01", ("It gathered 120 participants.",))
V2 = Document("Shown conference", "2025-12-01", ("It gathered 150 participants.",))
V3 = Document("Shown conference", "2025-12-01", ("It gathered 151 participants.",))


def png(width: int = 64, height: int = 48, words: str = "150") -> bytes:
    """A real PNG (Pillow), with some drawing so that two differ."""
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((4, 4), words, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class ShotStory:
    png: bytes
    layout: bytes
    change_ids: dict[int, str]  # document version -> the ChangeDetected that made it


def layout_of(width: int, height: int) -> bytes:
    return json.dumps({"width": width, "height": height, "blocks": [
        {"text": V2.paragraphs[0], "box": [4, 4, 40, 12]}]}, separators=(",", ":")).encode()


def record_shots(store: EventStore, name: str = NAME, image: bytes | None = None) -> ShotStory:
    image = image if image is not None else png()
    layout = layout_of(64, 48)
    store.append(name, 0, [SourceRegistered(name=name, url=URL, kind="html",
                                            interval_seconds=900)])
    text = Blob.text(V1.canonical_text())
    _append(store, name, [BaselineImported(content_hash=text.sha256, origin="test",
                                           title=V1.title, published=V1.published)], [text])
    ids = {2: _edit(store, name, V1, V2, image, layout),
           3: _edit(store, name, V2, V3, image, None)}
    return ShotStory(image, layout, ids)


def evidence(image: bytes, layout: bytes | None) -> dict[str, object]:
    return {"screenshot": {"sha256": Blob.raw(image).sha256, "media_type": "image/png",
                           "width": 64, "height": 48,
                           "layout": Blob.raw(layout).sha256 if layout else None}}


def _append(store: EventStore, name: str, events: list, blobs: list[Blob]) -> list[str]:
    stored = store.append(name, store.stream_version(name), events, blobs=blobs)
    return [e.event_id for e in stored]


def _edit(store: EventStore, name: str, old: Document, new: Document, image: bytes,
          layout: bytes | None) -> str:
    before, after = Blob.text(old.canonical_text()), Blob.text(new.canonical_text())
    raw = Blob.raw(f"<html><p>{new.paragraphs[0]}</p></html>".encode())
    blobs = [after, raw, Blob.raw(image)] + ([Blob.raw(layout)] if layout else [])
    change = diff_documents(old, new)
    return _append(store, name, [
        VersionCaptured(content_hash=after.sha256, url=URL, title=new.title,
                        published=new.published, raw_hash=raw.sha256,
                        content_type="text/html", evidence=evidence(image, layout)),
        ChangeDetected(from_hash=before.sha256, to_hash=after.sha256,
                       significance=change.significance, classes=change.classes,
                       summary=change.summary(), change=change.to_stored()),
    ], blobs).pop()
