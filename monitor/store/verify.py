"""Prove the log was not altered: recompute every stream's hash chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from monitor.store.eventstore import chain_hash, hash_payload
from monitor.store.schema import events, streams


@dataclass
class VerifyReport:
    events_checked: int = 0
    streams_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_log(engine: Engine, max_problems: int = 20) -> VerifyReport:
    report = VerifyReport()
    with engine.connect() as conn:
        heads = {row.stream_id: row for row in conn.execute(select(streams))}
        rows = conn.execution_options(yield_per=1000).execute(
            select(events).order_by(events.c.stream_id, events.c.version)
        )
        walker = _StreamWalker(report, heads)
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
    return report


class _StreamWalker:
    def __init__(self, report: VerifyReport, heads: dict[str, Any]) -> None:
        self.report = report
        self.heads = heads
        self.seen: set[str] = set()
        self.stream: str | None = None
        self.version = 0
        self.prev_hash = ""
        self.broken = False

    def feed(self, row: Any) -> None:
        if row.stream_id != self.stream:
            self.finish()
            self.stream, self.version, self.prev_hash, self.broken = row.stream_id, 0, "", False
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
        self.version, self.prev_hash = row.version, row.hash

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
