"""Prove the log was not altered: recompute every stream's hash chain, decode every blob,
and replay the log to show the projections people read say what it says
(monitor.store.replay_check).

A blob is checked by decoding it (through its delta base chain) and comparing the
sha256 of the result with its key; a version whose text or raw bytes the log names
must have its blob, as must a screenshot its evidence names. Both are streamed, so a
large store is checked in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, exists, select

from monitor.errors import PersistenceError
from monitor.moments import utc_iso
from monitor.store.eventstore import as_datetime, chain_hash, hash_payload
from monitor.store.faults import translated
from monitor.store.replay_check import check_projections
from monitor.store.schema import blobs, events, streams
from monitor.store.snapshots import BlobCache, get_blob

VERSION_EVENTS = ("VersionCaptured", "BaselineImported")  # they name content and raw blobs
# The blobs a version event names: (what a problem calls it, its JSON path in the data).
# The screenshot's are written by the check from monitor.sources.base.Capture (issue 15)
# and read by monitor.screenshots.
NAMED_BLOBS: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("content_hash", "content_hash"), ("raw_hash", "raw_hash"),
    ("screenshot", ("evidence", "screenshot", "sha256")),
    ("screenshot layout", ("evidence", "screenshot", "layout")),
    ("rendered main document", ("evidence", "rendered", "main_document", "sha256")))


@dataclass
class VerifyReport:
    events_checked: int = 0
    streams_checked: int = 0
    blobs_checked: int = 0
    projection_rows: int = 0  # stored projection rows compared with a replay of the log
    projections_differ: bool = False
    problems: list[str] = field(default_factory=list)
    # Doubts that do not break the chain, e.g. a clock that jumped back.
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_log(engine: Engine, max_problems: int = 20) -> VerifyReport:
    with translated(engine):
        return _verify(engine, max_problems)


def _verify(engine: Engine, max_problems: int) -> VerifyReport:
    report = VerifyReport()
    with engine.connect() as conn:
        heads = {row.stream_id: row for row in conn.execute(select(streams))}
        rows = conn.execution_options(yield_per=1000).execute(
            select(events).order_by(events.c.stream_id, events.c.version)
        )
        walker = StreamWalker(report, heads)
        for row in rows:
            walker.feed(row)
            if len(report.problems) >= max_problems:
                break
        else:
            walker.finish()
            for stream_id, head in heads.items():
                if stream_id not in walker.seen:
                    report.problems.append(
                        f"stream {stream_id!r}: all {head.version} events are missing"
                    )
        if len(report.problems) < max_problems:
            _verify_blobs(engine, report, max_problems)
        if len(report.problems) < max_problems:
            _verify_references(conn, report, max_problems)
    if len(report.problems) < max_problems:
        replayed = check_projections(engine, max_problems - len(report.problems))
        report.projection_rows = replayed.rows_compared
        report.projections_differ = bool(replayed.differences)
        report.problems.extend(f"projection {d}" for d in replayed.differences)
    return report


def _verify_blobs(engine: Engine, report: VerifyReport, max_problems: int) -> None:
    """Decode every blob, bases before deltas so a chain is decoded once (the cache)."""
    cache = BlobCache()  # this run's own: what the database holds, not what we read before
    with engine.connect() as conn, engine.connect() as lookup:
        rows = conn.execution_options(yield_per=1000).execute(
            select(blobs.c.sha256, blobs.c.kind).order_by(blobs.c.depth, blobs.c.sha256)
        )
        for row in rows:
            report.blobs_checked += 1
            try:
                get_blob(lookup, row.sha256, cache)
            except PersistenceError as exc:
                report.problems.append(f"blob {row.sha256[:12]} ({row.kind}): {exc}")
                if len(report.problems) >= max_problems:
                    return


def _verify_references(conn: Connection, report: VerifyReport, max_problems: int) -> None:
    """Every content and raw hash a version event names is a stored blob, and so is
    each hash its evidence names (a screenshot, its layout, a rendered page's main
    document: monitor.screenshots)."""
    for key, path in NAMED_BLOBS:
        named = events.c.data[path].as_string()
        missing = conn.execution_options(yield_per=1000).execute(
            select(events.c.stream_id, events.c.version, events.c.position, named.label("sha"))
            .where(events.c.type.in_(VERSION_EVENTS), named.is_not(None),
                   ~exists().where(blobs.c.sha256 == named))
            .order_by(events.c.position)
        )
        for row in missing:
            report.problems.append(
                f"stream {row.stream_id!r} event {row.version} (position {row.position}): "
                f"{key} {row.sha[:12]} is missing from the blobs"
            )
            if len(report.problems) >= max_problems:
                return


class StreamWalker:
    def __init__(self, report: VerifyReport, heads: dict[str, Any]) -> None:
        self.report = report
        self.heads = heads
        self.seen: set[str] = set()
        self.stream: str | None = None
        self.version = 0
        self.prev_hash = ""
        self.prev_recorded: Any = None  # the latest recorded_at so far in the stream
        self.latest_version = 0  # the event that holds it
        self.broken = False

    def feed(self, row: Any) -> None:
        if row.stream_id != self.stream:
            self.finish()
            self.stream, self.version, self.prev_hash, self.broken = row.stream_id, 0, "", False
            self.prev_recorded, self.latest_version = None, 0
            self.seen.add(row.stream_id)
            self.report.streams_checked += 1
        self.report.events_checked += 1
        if self.broken:
            return
        where = f"stream {row.stream_id!r} event {row.version} (position {row.position})"
        if row.version != self.version + 1:
            missing = self.version + 1
            self._problem(f"stream {row.stream_id!r}: event {missing} is missing "
                          f"(next stored is {row.version}, position {row.position})")
        elif row.prev_hash != self.prev_hash:
            self._problem(f"{where}: prev_hash does not match the event before it")
        else:
            payload = hash_payload(
                row.event_id, row.stream_id, row.version, row.type, row.schema_version,
                row.data, row.recorded_at,
            )
            if chain_hash(row.prev_hash, payload) != row.hash:
                self._problem(f"{where}: content was altered (hash mismatch, type {row.type})")
        self._check_clock(row)
        self.version, self.prev_hash = row.version, row.hash

    def _check_clock(self, row: Any) -> None:
        """Within a stream each event is recorded after every one before it; an earlier
        `recorded_at` means the recording machine's clock went back, which leaves the
        chain intact but puts the event's moment in doubt. Compared with the latest
        moment so far, not only the neighbour: after a jump back, every event still
        before the pre-jump moment is in doubt, not just the first."""
        recorded = as_datetime(row.recorded_at)
        before = self.prev_recorded
        if before is not None and recorded < before:
            self.report.warnings.append(
                f"stream {row.stream_id!r}: event {row.version} (position {row.position}) "
                f"was recorded at {utc_iso(recorded)}, before event {self.latest_version} "
                f"({utc_iso(before)}): the clock went back"
            )
            return
        self.prev_recorded, self.latest_version = recorded, row.version

    def finish(self) -> None:
        if self.stream is None or self.broken:
            return
        head = self.heads.get(self.stream)
        if head is None:
            self._problem(f"stream {self.stream!r}: no head record (streams table altered)")
        elif head.version > self.version:
            self._problem(f"stream {self.stream!r}: event {self.version + 1} is missing "
                          f"(the stream's head says {head.version} events)")
        elif head.version != self.version or head.head_hash != self.prev_hash:
            self._problem(f"stream {self.stream!r}: head record does not match its last event")

    def _problem(self, text: str) -> None:
        self.report.problems.append(text)
        self.broken = True  # later events of this stream follow from the first break
