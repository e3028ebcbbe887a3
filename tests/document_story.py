"""A document's twelve days, recorded with a clock the test moves: for the document,
diff and capture pages. Real events appended to a real store, as checks record them:
versions with texts and raw bytes, changes made by `diff_documents`, a failing stretch,
a removal and the document's return, the check ledger's rows (with a quiet day), a
signed checkpoint and a public archive copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from monitor.clock import ManualClock
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import (
    ArchiveCopyRecorded,
    BaselineImported,
    ChangeDetected,
    DocumentRemoved,
    Event,
    FetchFailedEvent,
    SourceRecovered,
    SourceRegistered,
    VersionCaptured,
)
from monitor.evidence import checkpoints
from monitor.evidence.keys import create_key, load_signing_key
from monitor.evidence.ledger import FAILED, NEW_VERSION, UNCHANGED, Ledger, seconds
from monitor.evidence.settings import EvidenceSettings
from monitor.store import EventStore, migrate, open_store
from monitor.store.schema import check_ledger, check_sources
from monitor.store.snapshots import Blob

NAME = "mfa-conference"
URL = "https://www.gov.kz/memleket/entities/mfa/press/news/details/7"
START = datetime(2025, 12, 1, 6, 0)
ARCHIVE_URL = "https://web.archive.org/web/20251202090000/" + URL

V1 = Document("Human rights conference", "2025-12-01", (
    "The conference gathered 120 participants.",
    "Minister Artur Lastayev opened it.",
    'He said "yes" to the plan.',
))
V2 = Document("Human rights conference", "2025-12-01", (  # one digit: 120 -> 150
    "The conference gathered 150 participants.",
    "Minister Artur Lastayev opened it.",
    'He said "yes" to the plan.',
))
V3 = Document("Human rights conference", "2025-12-01", (  # wording: medium
    "The conference gathered 150 participants.",
    "Deputy Minister Artur Lastayev opened it.",
    'He said "yes" to the plan.',
))
V4 = Document("Human rights conference", "2025-12-01", (  # typography: low
    "The conference gathered 150 participants.",
    "Deputy Minister Artur Lastayev opened it.",
    "He said «yes» to the plan.",
))


@dataclass
class DocumentStory:
    store: EventStore
    clock: ManualClock
    change_ids: dict[int, str]  # version -> the ChangeDetected that made it


def open_clocked(url: str) -> tuple[EventStore, ManualClock]:
    clock = ManualClock(START)
    store = open_store(url, check_schema=False, clock=clock)
    migrate.upgrade(store.engine)
    return store, clock


def record_document_story(tmp_path: Path, url: str | None = None) -> DocumentStory:
    """Day 0 registered with a baseline; day 1 a number edited (signed at day 2, copied
    to an archive); days 3-4 failing; day 5 a wording edit; day 6 a typographic one,
    then no check for a day; day 8 gone; day 10 back; now is day 12. Checked hourly."""
    store, clock = open_clocked(url or f"sqlite:///{tmp_path / 'monitor.db'}")
    ids: dict[int, str] = {}
    append(store, [SourceRegistered(name=NAME, url=URL, kind="govkz", interval_seconds=900)])
    append(store, [BaselineImported(content_hash=Blob.text(V1.canonical_text()).sha256,
                                    origin="test", title=V1.title, published=V1.published)],
           [Blob.text(V1.canonical_text())])
    clock.set(START + timedelta(days=1))
    ids[2] = edit(store, V1, V2)
    clock.set(START + timedelta(days=2))
    key_file = tmp_path / "keys" / "checkpoint.ed25519"
    create_key(key_file)
    checkpoints.take(store, load_signing_key(key_file),
                     EvidenceSettings(key_file=key_file, witness_file=tmp_path / "witness.jsonl"))
    append(store, [ArchiveCopyRecorded(archive_url=ARCHIVE_URL, url=URL, change_event_id=ids[2],
                                       document_version=2, archived_at="20251202090000")])
    for day in (3, 3.5, 4):
        clock.set(START + timedelta(days=day))
        append(store, [FetchFailedEvent(kind="timeout", message="no answer in 30 s")])
    clock.set(START + timedelta(days=4.5))
    append(store, [SourceRecovered(failures=3)])
    clock.set(START + timedelta(days=5))
    ids[3] = edit(store, V2, V3)
    clock.set(START + timedelta(days=6))
    ids[4] = edit(store, V3, V4)
    clock.set(START + timedelta(days=8))
    append(store, [FetchFailedEvent(kind="not_found", message="404", status=404),
                   DocumentRemoved(status=404, confirmations=3,
                                   last_hash=Blob.text(V4.canonical_text()).sha256)])
    clock.set(START + timedelta(days=10))
    capture(store, V4, raw=b"<html><body><p>back again</p></body></html>")
    clock.set(START + timedelta(days=12))
    Ledger(store.engine).record(NAME, START, 200, UNCHANGED, 1, None)  # numbers the source
    with store.engine.begin() as conn:  # the rest at once: a commit per row costs seconds
        number = conn.execute(select(check_sources.c.no)
                              .where(check_sources.c.stream_id == NAME)).scalar_one()
        conn.execute(insert(check_ledger), [
            {"source": number, "at": seconds(START + timedelta(hours=hour)), "status": 200,
             "outcome": _outcome(hour), "version": None, "raw": None}
            for hour in range(1, 12 * 24)
            if not 6 * 24 < hour <= 7 * 24])  # a quiet day: nobody checked
    return DocumentStory(store, clock, ids)


def _outcome(hour: int) -> int:
    day = hour / 24
    if 3 <= day <= 4.5 or 8 <= day < 10:
        return FAILED
    return NEW_VERSION if hour in (24, 5 * 24, 6 * 24, 10 * 24) else UNCHANGED


def append(store: EventStore, events: list[Event], blobs: list[Blob] | None = None,
           name: str = NAME) -> None:
    store.append(name, store.stream_version(name), events, blobs=blobs or [])


def capture(store: EventStore, doc: Document, raw: bytes | None = None,
            content_type: str = "text/html", name: str = NAME) -> None:
    text = Blob.text(doc.canonical_text())
    body = Blob.raw(raw if raw is not None else f"<html>{doc.canonical_text()}</html>".encode())
    append(store, [VersionCaptured(content_hash=text.sha256, url=URL, title=doc.title,
                                   published=doc.published, raw_hash=body.sha256,
                                   content_type=content_type)], [text, body], name)


def edit(store: EventStore, old: Document, new: Document, raw: bytes | None = None,
         content_type: str = "text/html", name: str = NAME) -> str:
    """Record `new` as the next version and the change from `old`: the change's id."""
    before, after = Blob.text(old.canonical_text()), Blob.text(new.canonical_text())
    body = Blob.raw(raw if raw is not None else f"<html>{new.canonical_text()}</html>".encode())
    change = diff_documents(old, new)
    stored = store.append(name, store.stream_version(name), [
        VersionCaptured(content_hash=after.sha256, url=URL, title=new.title,
                        published=new.published, raw_hash=body.sha256, content_type=content_type),
        ChangeDetected(from_hash=before.sha256, to_hash=after.sha256,
                       significance=change.significance, classes=change.classes,
                       summary=change.summary(), change=change.to_stored()),
    ], blobs=[after, body])
    return stored[-1].event_id


def register(store: EventStore, name: str, url: str = URL) -> None:
    store.append(name, 0, [SourceRegistered(name=name, url=url, kind="html",
                                            interval_seconds=900)])
