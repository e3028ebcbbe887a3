"""A document's history as its page shows it, read from the store: the source, its
versions with the change that made each and the checkpoint that first signed it, the
publications and removals, and the timeline's dots and spans.

Read-only. A version's change is read from the `changes` projection (its recorded
summary, significance and classes) with its archive copy (monitor.changes.archives);
its hunks, which a summary in another language is rebuilt from, only for a reader of
another language: they are the costly part of a change to read. Publications and
removals are read by monitor.changes.load, as the report and the alerts read them. The
table shows SHOWN versions a page, newest first; the timeline shows every version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.alerts import wording
from monitor.changes.archives import archive_urls
from monitor.changes.load import load_changes
from monitor.changes.record import CHANGED, PUBLISHED, REMOVED, ChangeRecord
from monitor.diff import Change, Hunk
from monitor.i18n import Reader
from monitor.store.mapper import to_event
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.schema import changes, events, versions
from monitor.web.checks import Checks, gap_threshold, source_checks
from monitor.web.signed import Signed, first_signed
from monitor.web.spans import Span, StateEvent, gap_spans, quiet_spans, state_spans
from monitor.web.timeline import Dot, Timeline

SHOWN = 50  # versions in the table at a time, and publications and removals, newest first
MIN_RANGE = timedelta(hours=1)  # the timeline's shortest axis
STATE_TYPES = ("SourceRegistered", "BaselineImported", "VersionCaptured", "FetchFailed",
               "SourceRecovered", "DocumentRemoved", "SourcePaused", "SourceResumed",
               "SourceRemoved")


@dataclass(frozen=True)
class ChangeLine:
    """The change that made a version, as its table row shows it."""

    event_id: str
    significance: str
    classes: tuple[str, ...]
    summary: str  # as recorded, in English
    archive_url: str | None  # a public archive's copy of the page, made for this change
    hunks: tuple[Hunk, ...] | None = None  # read only for a reader of another language

    def said(self, reader: Reader) -> str:
        if reader.language == "en" or self.hunks is None:
            return self.summary
        return wording.change_summary(self.hunks, reader)


@dataclass(frozen=True)
class VersionEntry:
    number: int
    captured_at: datetime  # naive UTC
    origin: str  # baseline | captured
    title: str | None  # as this capture read it
    url: str | None
    content_hash: str
    raw_hash: str | None
    event_position: int
    significance: str  # of the change that made it; "first" for the first version
    change: ChangeLine | None
    signed: Signed | None  # the first checkpoint that covers its event


@dataclass(frozen=True)
class History:
    source: SourceRow
    versions: tuple[VersionEntry, ...]  # newest first, at most SHOWN
    total_versions: int
    older: int | None  # the newest version not shown, when older ones are left out
    others: tuple[ChangeRecord, ...]  # publications and removals, newest first
    spans: tuple[Span, ...]
    checks: Checks
    timeline: Timeline
    now: datetime

    @property
    def tags(self) -> list[str]:
        found = (self.source.options or {}).get("tags")
        return [t for t in found if isinstance(t, str)] if isinstance(found, list) else []


def read_history(engine: Engine, source: SourceRow, now: datetime, reader: Reader,
                 before: int | None = None) -> History:
    """The history, with the table's versions older than `before` (None: the latest)."""
    stream = source.stream_id
    with engine.connect() as conn:
        stored = [VersionRow.of(v) for v in conn.execute(
            select(versions).where(versions.c.stream_id == stream)
            .order_by(versions.c.document_version))]
        rows = list(conn.execute(select(changes).where(changes.c.stream_id == stream)
                                 .order_by(changes.c.event_position)))
        made = {r.to_version: r for r in rows if r.kind == CHANGED and r.to_version}
        older = [v for v in reversed(stored) if before is None or v.document_version < before]
        shown = older[:SHOWN]
        lines = _change_lines(conn, stream, [made[v.document_version] for v in shown
                                             if v.document_version in made], reader)
        others = load_changes(conn, [r for r in rows if r.kind in (PUBLISHED, REMOVED)]
                              [::-1][:SHOWN])
        signed = first_signed(conn, [v.event_position for v in shown])
        spans = state_spans(_state_events(conn, stream), now)
        start = min([source.registered_at, *(v.captured_at for v in stored[:1])])
        threshold = gap_threshold(source.interval_seconds)
        checks = source_checks(conn, stream, start, now, threshold)
    spans += gap_spans(checks.gaps, quiet_spans(spans), threshold)
    spans.sort(key=lambda s: s.start)
    entries = tuple(_entry(v, made.get(v.document_version), lines, signed) for v in shown)
    dots = tuple(_dot(v, made.get(v.document_version)) for v in stored)
    timeline = Timeline(source.title or source.name, min(start, now - MIN_RANGE), now, dots,
                        tuple(spans))
    return History(source, entries, len(stored),
                   older[SHOWN].document_version if len(older) > SHOWN else None,
                   tuple(others), tuple(spans), checks, timeline, now)


def _change_lines(conn: Connection, stream: str, rows: list[Any],
                  reader: Reader) -> dict[int, ChangeLine]:
    """event position -> the change's line."""
    copies = archive_urls(conn, [stream], [r.event_id for r in rows])
    hunks = _hunks(conn, [r.event_position for r in rows]) if reader.language != "en" else {}
    return {r.event_position: ChangeLine(r.event_id, r.significance, tuple(r.classes),
                                         r.summary, copies.get(r.event_id),
                                         hunks.get(r.event_position)) for r in rows}


def _hunks(conn: Connection, positions: list[int]) -> dict[int, tuple[Hunk, ...]]:
    query = (select(events.c.position, events.c.type, events.c.schema_version, events.c.data)
             .where(events.c.position.in_(positions)))
    found = {}
    for row in conn.execute(query):
        event = to_event(row.type, row.schema_version, row.data)
        change = getattr(event, "change", None)
        if isinstance(change, dict):
            found[row.position] = Change.from_dict(change).hunks
    return found


def _state_events(conn: Connection, stream_id: str) -> list[StateEvent]:
    query = (select(events.c.type, events.c.recorded_at, events.c.data["kind"].as_string())
             .where(events.c.stream_id == stream_id, events.c.type.in_(STATE_TYPES))
             .order_by(events.c.version))
    return [StateEvent(kind, at, detail if kind == "FetchFailed" and detail else "")
            for kind, at, detail in conn.execute(query)]


def _significance(number: int, change: Any) -> str:
    if change is not None:
        return str(change.significance)
    return "first" if number == 1 else "none"


def _entry(version: Any, change: Any, lines: dict[int, ChangeLine],
           signed: dict[int, Signed]) -> VersionEntry:
    return VersionEntry(
        number=version.document_version, captured_at=version.captured_at, origin=version.origin,
        title=version.title, url=version.url, content_hash=version.content_hash,
        raw_hash=version.raw_hash, event_position=version.event_position,
        significance=_significance(version.document_version, change),
        change=lines.get(change.event_position) if change is not None else None,
        signed=signed.get(version.event_position))


def _dot(version: Any, change: Any) -> Dot:
    return Dot(version.document_version, version.captured_at,
               _significance(version.document_version, change),
               change.summary if change is not None else "")


def said(record: ChangeRecord, reader: Reader) -> str:
    """A publication's or a removal's summary in the reader's language (English: as it
    was recorded)."""
    if reader.language == "en":
        return record.summary
    alerts_words = reader.gettext  # the alerts' catalog (`monitor`), not the pages' (`web`)
    if record.kind == PUBLISHED:
        return alerts_words("new document published")
    if record.kind == REMOVED and record.removal is not None:
        return alerts_words("removed: judged gone on {n} consecutive checks").format(
            n=record.removal.confirmations)
    return record.summary
