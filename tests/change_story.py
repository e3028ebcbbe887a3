"""Shared by the tests of what a change says (titles, the one change schema): the
schema validators, and a store's story with every kind of change in it.

The story is real events appended to a real store, as checks record them: versions
with their texts (and raw bytes), changes made by `diff_documents`, a publication
on a list, a confirmed removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from monitor.changes.schema import SCHEMAS, load_schema
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import (
    BaselineImported,
    ChangeDetected,
    DocumentPublished,
    DocumentRemoved,
    Event,
    SourceRegistered,
    VersionCaptured,
)
from monitor.store import EventStore
from monitor.store.snapshots import Blob

PRESS_URL = "https://www.gov.kz/memleket/entities/mfa/press/news/details/1"
TITLE = "Human rights conference"
NEW_TITLE = "Human rights conference in Astana"
HOSTILE_TITLE = ("<script>alert(1)</script> Decree\x1b[31m No.\u202e 5\n"
                 + "very long " * 40)

V1 = Document(TITLE, "2025-12-11", (
    "The conference gathered 120 participants.",
    "Minister Artur Lastayev opened it.",
))
V2 = Document(TITLE, "2025-12-11", (
    "The conference gathered 150 participants.",
    "Minister Artur Lastayev opened it.",
))
V3 = Document(NEW_TITLE, "2025-12-11", (
    "The conference gathered 150 participants.",
    "Deputy Minister Artur Lastayev opened it.",
))
UNTITLED_1 = Document(None, None, ("Notice: the office is open.",))
UNTITLED_2 = Document(None, None, ("Notice: the office is closed.",))
ARCHIVED = Document("Archived statement", "2025-10-01", tuple(
    f"Paragraph {n} of the statement, kept for the record." for n in range(1, 80)))


@dataclass(frozen=True)
class Story:
    """Event ids of what was recorded."""

    number_edit: str  # mfa-press v1 -> v2
    title_edit: str  # mfa-press v2 -> v3: the title and a wording edit
    untitled_edit: str  # mfa-notice, never had a title
    published: str  # akorda-decrees lists a document with a hostile title
    removed: str  # mfa-archive, gone after v1
    hostile_edit: str  # mfa-hostile: its title is page text meant to do harm

    @property
    def changes(self) -> list[str]:
        return [self.number_edit, self.title_edit, self.untitled_edit, self.published,
                self.removed, self.hostile_edit]


def record_story(store: EventStore) -> Story:
    _register(store, "mfa-press", PRESS_URL)
    _version(store, "mfa-press", V1, baseline=True)
    number_edit = _edit(store, "mfa-press", V1, V2)
    title_edit = _edit(store, "mfa-press", V2, V3)

    _register(store, "mfa-notice", "https://www.gov.kz/memleket/entities/mfa/press/notice")
    _version(store, "mfa-notice", UNTITLED_1, baseline=True)
    untitled_edit = _edit(store, "mfa-notice", UNTITLED_1, UNTITLED_2)

    _register(store, "akorda-decrees", "https://www.akorda.kz/en/decrees", kind="govkz-list")
    published = _append(store, "akorda-decrees", [DocumentPublished(
        item_id="5", url="https://www.akorda.kz/en/decrees/5", title=HOSTILE_TITLE,
        published="2025-12-12")]).pop()

    _register(store, "mfa-archive", "https://www.gov.kz/memleket/entities/mfa/press/news/2")
    last = _version(store, "mfa-archive", ARCHIVED, baseline=False)
    removed = _append(store, "mfa-archive", [DocumentRemoved(
        status=404, confirmations=3, last_hash=last)]).pop()

    hostile_1 = Document(HOSTILE_TITLE, "2025-12-11", ("It said 1.",))
    hostile_2 = Document(HOSTILE_TITLE, "2025-12-11", ("It said 2.",))
    _register(store, "mfa-hostile", "https://www.gov.kz/memleket/entities/mfa/press/news/3")
    _version(store, "mfa-hostile", hostile_1, baseline=True)
    hostile_edit = _edit(store, "mfa-hostile", hostile_1, hostile_2)
    return Story(number_edit, title_edit, untitled_edit, published, removed, hostile_edit)


def _register(store: EventStore, name: str, url: str, kind: str = "govkz") -> None:
    store.append(name, 0, [SourceRegistered(name=name, url=url, kind=kind, interval_seconds=900)])


def _append(store: EventStore, name: str, events: list[Event],
            blobs: list[Blob] | None = None) -> list[str]:
    stored = store.append(name, store.stream_version(name), events, blobs=blobs or [])
    return [e.event_id for e in stored]


def _version(store: EventStore, name: str, doc: Document, *, baseline: bool) -> str:
    text = Blob.text(doc.canonical_text())
    if baseline:
        event: Event = BaselineImported(content_hash=text.sha256, origin="test",
                                        title=doc.title, published=doc.published)
        _append(store, name, [event], [text])
        return text.sha256
    raw = Blob.raw(f"<html>{doc.canonical_text()}</html>".encode())
    _append(store, name, [_captured(doc, text, raw)], [text, raw])
    return text.sha256


def _captured(doc: Document, text: Blob, raw: Blob) -> VersionCaptured:
    return VersionCaptured(content_hash=text.sha256, url=PRESS_URL, title=doc.title,
                           published=doc.published, raw_hash=raw.sha256)


def _edit(store: EventStore, name: str, old: Document, new: Document) -> str:
    """Record `new` as the next version and the change from `old`: the change's id."""
    before, after = Blob.text(old.canonical_text()), Blob.text(new.canonical_text())
    raw = Blob.raw(f"<html>{new.canonical_text()}</html>".encode())
    change = diff_documents(old, new)
    return _append(store, name, [
        _captured(new, after, raw),
        ChangeDetected(from_hash=before.sha256, to_hash=after.sha256,
                       significance=change.significance, classes=change.classes,
                       summary=change.summary(), change=change.to_stored()),
    ], [after, raw]).pop()


# --- the schemas ---------------------------------------------------------------
def validator(name: str) -> Draft202012Validator:
    """A validator for one shipped schema, the other schemas resolvable from it."""
    registry: Registry = Registry().with_resources(
        (load_schema(n)["$id"], Resource.from_contents(load_schema(n))) for n in SCHEMAS)
    return Draft202012Validator(load_schema(name), registry=registry)


def assert_valid(instance: Any, name: str) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
