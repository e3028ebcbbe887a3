"""One source's history as the rows a real monitor would have appended: its events
(hash-chained exactly as EventStore.append chains them, with the ChangeDetected of the
real diff between consecutive texts), its text blobs (compressed exactly as
monitor.store.snapshots encodes them, each version a zstd delta on the one before
while the chain is short enough), and its check-ledger rows.

Positions are not known here: the filler sorts every source's steps by time and
numbers them (bench/web_fill.py). Runs in worker processes, one source at a time.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import zstandard

from bench.web_plan import LONG_EDITS, SourcePlan
from bench.web_texts import article, edit, scattered_edits
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import (
    ChangeDetected,
    DocumentRemoved,
    Event,
    FetchFailedEvent,
    SourcePaused,
    SourceRecovered,
    SourceRegistered,
    SourceRemoved,
    VersionCaptured,
)
from monitor.store.eventstore import chain_hash, hash_payload
from monitor.store.mapper import to_data
from monitor.store.snapshots import LEVEL, MAX_DEPTH, _compressor

CONTENT_TYPES = {"govkz": "application/json", "html": "text/html; charset=utf-8",
                 "pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FAILURE = ("http", "HTTP 503 Service Unavailable", 503)
# the ledger's outcomes (monitor.evidence.ledger): 0 unchanged, 1 new version, 2 failed
UNCHANGED, NEW_VERSION, FAILED = 0, 1, 2


@dataclass
class Step:
    """One append: what one check (or one command) wrote, at one moment."""

    at: datetime
    stream_id: str
    events: list[dict[str, Any]]  # events rows, without `position`
    blobs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class History:
    steps: list[Step]
    # the check ledger's rows: at, status, outcome, version, raw
    ledger: list[tuple[int, int, int, int | None, bytes | None]]


@dataclass
class _Base:
    sha256: str
    content: bytes
    depth: int


class _Stream:
    """Appends to one stream as EventStore._insert does: version, hash chain."""

    def __init__(self, stream_id: str, rng: random.Random) -> None:
        self.stream_id, self.rng = stream_id, rng
        self.version, self.head = 0, ""
        self.steps: list[Step] = []

    def append(self, at: datetime, new: list[Event],
               blobs: Sequence[dict[str, Any]] = ()) -> None:
        rows = []
        for offset, event in enumerate(new):
            self.version += 1
            recorded_at = at + timedelta(microseconds=offset)
            event_id = uuid.UUID(int=self.rng.getrandbits(128), version=4).hex
            data = to_data(event)
            payload = hash_payload(event_id, self.stream_id, self.version, event.type,
                                   event.schema_version, data, recorded_at)
            digest = chain_hash(self.head, payload)
            rows.append({"event_id": event_id, "stream_id": self.stream_id,
                         "version": self.version, "type": event.type,
                         "schema_version": event.schema_version, "data": data,
                         "recorded_at": recorded_at, "prev_hash": self.head, "hash": digest})
            self.head = digest
        self.steps.append(Step(at, self.stream_id, rows, list(blobs)))


def encode_text(text: str, base: _Base | None) -> tuple[dict[str, Any], _Base]:
    """The blob row monitor.store.snapshots would store for this text, with `base` (the
    stream's previous text) as the delta's dictionary when that is allowed and smaller."""
    content = text.encode("utf-8")
    sha = hashlib.sha256(content).hexdigest()
    plain = zstandard.ZstdCompressor(level=LEVEL).compress(content)
    row: dict[str, Any] = {"sha256": sha, "kind": "text", "size": len(content), "codec": "zstd",
           "base": None, "depth": 0, "body": plain}
    if base is not None and base.sha256 != sha and base.depth + 1 <= MAX_DEPTH:
        delta = _compressor(base.content).compress(content)
        if len(delta) < len(plain):
            row.update(codec="zstd-delta", base=base.sha256, depth=base.depth + 1, body=delta)
    return row, _Base(sha, content, row["depth"])


def build(plan: SourcePlan, seed: int) -> History:
    rng = random.Random(f"{seed}:{plan.index}")
    stream = _Stream(plan.name, rng)
    ledger: list[tuple[int, int, int, int | None, bytes | None]] = []
    stream.append(plan.registered, [SourceRegistered(
        name=plan.name, url=plan.url, kind=plan.kind, interval_seconds=plan.interval,
        language=plan.language, options={"tags": list(plan.tags)})])
    doc: Document | None = None
    base: _Base | None = None
    stored: dict[str, int] = {}  # this stream's blobs: their depth as first stored
    failures = 0
    previous = plan.registered
    for number, at in enumerate(plan.times, start=1):
        _unchanged_checks(rng, ledger, previous, at, number - 1, plan.interval)
        if plan.spell_after == number - 1:
            failures = _fail(stream, ledger, rng, previous, at, rng.randint(1, 4))
        new_doc = _next_text(rng, plan, doc)
        row, new_base = encode_text(new_doc.canonical_text(), base)
        # A text the stream had before (an edit undone) is stored once: its first row,
        # with that row's depth, is the next version's base (insert_blobs skips the new).
        new_base.depth = stored.setdefault(row["sha256"], row["depth"])
        events: list[Event] = [SourceRecovered(failures=failures)] if failures else []
        failures = 0
        events.append(VersionCaptured(
            content_hash=row["sha256"], url=plan.url, title=new_doc.title,
            published=new_doc.published, content_type=CONTENT_TYPES[plan.kind],
            etag=f'"{row["sha256"][:16]}"' if plan.kind == "html" else None))
        if doc is not None:
            change = diff_documents(doc, new_doc)
            if not change.is_empty:
                events.append(ChangeDetected(
                    from_hash=base.sha256 if base else "", to_hash=row["sha256"],
                    significance=change.significance, classes=change.classes,
                    summary=change.summary(), change=change.to_stored()))
        stream.append(at, events, [row])
        ledger.append((_seconds(at), 200, NEW_VERSION, number, None))
        doc, base, previous = new_doc, new_base, at
    _fate(stream, ledger, rng, plan, base)
    return History(stream.steps, ledger)


def _next_text(rng: random.Random, plan: SourcePlan, doc: Document | None) -> Document:
    if doc is None:
        return article(rng, plan.language, plan.words, rare=plan.rare)
    if plan.special == "long":
        return scattered_edits(rng, doc, plan.language, LONG_EDITS)
    edited = doc
    for _ in range(rng.choices((1, 2, 3), (70, 20, 10))[0]):
        edited = edit(rng, edited, plan.language).document
    while edited == doc:
        edited = edit(rng, doc, plan.language, "word").document
    return edited


def _unchanged_checks(rng: random.Random, ledger: list[Any], after: datetime,
                      before: datetime, version: int, interval: int) -> None:
    """A few of the checks between two versions that found the page unchanged (a
    noisy page's body differs, so its row keeps a body hash)."""
    if not version:
        return
    span = (before - after).total_seconds()
    for _ in range(min(rng.randint(0, 4), int(span // interval))):
        at = after + timedelta(seconds=rng.uniform(0, span))
        raw = rng.getrandbits(160).to_bytes(20, "big") if rng.random() < 0.5 else None
        ledger.append((_seconds(at), 200, UNCHANGED, version, raw))


def _fail(stream: _Stream, ledger: list[Any], rng: random.Random, after: datetime,
          before: datetime, count: int) -> int:
    span = (before - after).total_seconds()
    moments = sorted(after + timedelta(seconds=rng.uniform(0.1, 0.9) * span)
                     for _ in range(count))
    for at in moments:
        kind, message, status = FAILURE
        stream.append(at, [FetchFailedEvent(kind=kind, message=message, status=status)])
        ledger.append((_seconds(at), status, FAILED, None, None))
    return count


def _fate(stream: _Stream, ledger: list[Any], rng: random.Random, plan: SourcePlan,
          base: _Base | None) -> None:
    at = plan.end
    if plan.fate in ("failing", "never"):
        count = rng.randint(1, 6)
        for k in range(count):
            when = at + timedelta(seconds=k * plan.interval)
            kind, message, status = FAILURE
            stream.append(when, [FetchFailedEvent(kind=kind, message=message, status=status)])
            ledger.append((_seconds(when), status, FAILED, None, None))
    elif plan.fate == "paused":
        stream.append(at, [SourcePaused(reason="paused by an editor")])
    elif plan.fate == "removed":
        stream.append(at, [SourceRemoved(reason="no longer watched")])
    elif plan.fate == "gone":
        stream.append(at, [DocumentRemoved(
            status=404, confirmations=3, last_hash=base.sha256 if base else None,
            judged_by="http_404", evidence={"final_url": plan.url, "status": 404})])
        ledger.append((_seconds(at), 404, FAILED, None, None))


def _seconds(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())
