"""What a failed check leaves in the log: a FetchFailed (not on every check of an
outage: once per `repeat_failures_every` of its streak), and the DocumentRemoved that
`not_found_confirmations` not-found checks in a row confirm. The counting of those
streaks lives here too, for removals and for emptied documents.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from monitor.config import Config
from monitor.errors import ConcurrencyConflict, FetchFailed
from monitor.events import (
    FAILURE_STREAK_ENDS,
    ArchiveCopyRecorded,
    DocumentRemoved,
    Event,
    FetchFailedEvent,
)
from monitor.removal import for_status
from monitor.store import EventStore
from monitor.store.rows import SourceRow

# Failures that become an event when seen on `not_found_confirmations` checks in a row:
# not_found a DocumentRemoved, empty the emptied document's VersionCaptured.
CONFIRMED_FAILURES = ("not_found", "empty")
NOTES_SKIPPED = 8  # archive copies looked past to find a source's last failure


def event_types(events: list[Event]) -> tuple[str, ...]:
    return tuple(e.type for e in events)


@dataclass
class FailureLog:
    store: EventStore
    config: Config

    def record(self, row: SourceRow, exc: FetchFailed) -> tuple[str, tuple[str, ...], str]:
        """Record `exc` for the source of `row` (or not: see _repeats); returns the
        outcome, the types of the events appended and the detail for people."""
        detail = f"{exc.kind}: {exc}"
        if exc.kind == "not_found" and row.state == "gone":
            return "failed", (), detail  # still gone: nothing new
        if self._repeats_recent_failure(row, exc):
            return "failed", (), (detail + " (still failing; recorded again once "
                                  "repeat_failures_every has passed)")
        failure = FetchFailedEvent(kind=exc.kind, message=str(exc), status=exc.status)
        new: list[Event] = [failure]
        outcome = "failed"
        if exc.kind == "not_found":
            seen = self.streak(row, "not_found") + 1
            if seen >= self.config.not_found_confirmations and row.document_version:
                new.append(DocumentRemoved(
                    status=exc.status, confirmations=seen, last_hash=row.content_hash,
                    judged_by=exc.judged_by or for_status(exc.status),
                    evidence=exc.evidence or {"status": exc.status}))
                outcome = "removed"
        try:
            self.store.append(row.stream_id, row.stream_version, new)
        except ConcurrencyConflict:
            return "failed", (), detail + " (recorded by another checker)"
        return outcome, event_types(new), detail

    def _repeats_recent_failure(self, row: SourceRow, exc: FetchFailed) -> bool:
        """Whether this failure can go unrecorded: it only repeats a streak that was
        recorded less than `repeat_failures_every` ago. Always recorded: the first
        failure of a streak; a not_found of a stored document (the removal counts
        them), and an `empty` one until the emptying is confirmed (as it counts them);
        a failure of another kind that interrupts either confirmation;
        the failure that carries the "failing" alert (the first at or past the
        shortest `failing_after` of the channels); and one per interval since the
        streak began, which dates the outage, without an event per check."""
        every = self.config.repeat_failures_every
        if not (every and row.failures):
            return False
        if exc.kind == "not_found" and row.document_version:
            return False
        if exc.kind == "empty" and row.document_version and (
                self.streak(row, "empty") + 1 < self.config.not_found_confirmations):
            return False
        if self._confirming(row) not in (None, exc.kind):
            return False  # it breaks a confirmation under way, which the log must show
        streak = self.store.streak(row.stream_id, "FetchFailed", FAILURE_STREAK_ENDS)
        if streak is None:
            return False
        first, last = streak
        recorded, now = (last - first).total_seconds(), (self.store.clock() - first).total_seconds()
        alert_after = self._failing_after
        if alert_after is not None and recorded < alert_after <= now:
            return False
        return recorded // every == now // every  # the streak's current interval has one

    @functools.cached_property
    def _failing_after(self) -> float | None:
        from monitor.alerts.policy import earliest_failing_alert  # only a failure needs it

        return earliest_failing_alert(self.config)

    def _confirming(self, row: SourceRow) -> str | None:
        """The kind of failure whose confirmation is under way (a removal, an
        emptying): the kind of the source's last event, when it is one of those."""
        if not row.document_version:
            return None
        # An archive copy recorded meanwhile says nothing about the page: look past it.
        tail = self.store.read_stream(row.stream_id, max(1, row.stream_version - NOTES_SKIPPED))
        last = [e for e in tail if e.type != ArchiveCopyRecorded.type]
        kind = last[-1].data.get("kind") if last and last[-1].type == "FetchFailed" else None
        return kind if kind in CONFIRMED_FAILURES else None

    def streak(self, row: SourceRow, kind: str) -> int:
        """How many checks in a row, up to now, ended in a failure of `kind` (those
        that confirm: not_found a removal, empty an emptied document)."""
        window = self.config.not_found_confirmations + 2
        tail = self.store.read_stream(row.stream_id, max(1, row.stream_version - window))
        streak = 0
        for event in reversed(tail):
            if event.type == "FetchFailed" and event.data.get("kind") == kind:
                streak += 1
            elif event.type in ("FetchFailed", "VersionCaptured", "SourceRecovered",
                                "BaselineImported", "DocumentRemoved", "SourceRegistered"):
                break
        return streak
