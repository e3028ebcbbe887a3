"""The stretches of a document's history the timeline draws behind its versions: when
it was failing, when it was gone, when it was paused, and when nobody checked it.

Pure: the source's state events and its check gaps in, spans out. A failure streak ends
where `monitor.events.FAILURE_STREAK_ENDS` says (the same rule the failure log counts
by); a removal lasts until a version is captured again; a stretch still open runs to
`now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.events import FAILURE_STREAK_ENDS

FAILURE, REMOVAL, PAUSED, GAP = "failure", "removal", "paused", "gap"
KINDS = (GAP, PAUSED, FAILURE, REMOVAL)  # the timeline's lanes, top to bottom

# The document came back: a version was read again (or it was registered anew).
_REMOVAL_ENDS = ("SourceRegistered", "BaselineImported", "VersionCaptured")


@dataclass(frozen=True)
class StateEvent:
    """What the spans are made from: one event of the source's stream."""

    type: str
    at: datetime  # naive UTC
    detail: str = ""  # a FetchFailed's kind ("timeout", "not_found"…)


@dataclass(frozen=True)
class Span:
    kind: str  # FAILURE | REMOVAL | PAUSED | GAP
    start: datetime  # naive UTC
    end: datetime
    open: bool = False  # still going on at `end` (now)
    count: int = 0  # failures recorded in it (FAILURE)
    detail: str = ""  # the first failure's kind; "stopped" for a source removed by a person

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def state_spans(events: Iterable[StateEvent], now: datetime) -> list[Span]:
    """Failure, removal and paused spans, in the order they began."""
    spans: list[Span] = []
    failing: list[StateEvent] = []
    gone: StateEvent | None = None
    paused: StateEvent | None = None
    stopped: StateEvent | None = None
    for event in events:
        if event.type == "FetchFailed":
            failing.append(event)
        elif event.type in FAILURE_STREAK_ENDS and failing:
            spans.append(_failure(failing, event.at, False))
            failing = []
        if event.type == "DocumentRemoved" and gone is None:
            gone = event
        elif event.type in _REMOVAL_ENDS and gone is not None:
            spans.append(Span(REMOVAL, gone.at, event.at))
            gone = None
        if event.type == "SourcePaused" and paused is None:
            paused = event
        elif event.type in ("SourceResumed", "SourceRemoved") and paused is not None:
            spans.append(Span(PAUSED, paused.at, event.at))
            paused = None
        if event.type == "SourceRemoved" and stopped is None:
            stopped = event
        elif event.type == "SourceRegistered" and stopped is not None:
            spans.append(Span(REMOVAL, stopped.at, event.at, detail="stopped"))
            stopped = None
    if failing:
        spans.append(_failure(failing, now, True))
    if gone is not None:
        spans.append(Span(REMOVAL, gone.at, now, open=True))
    if paused is not None:
        spans.append(Span(PAUSED, paused.at, now, open=True))
    if stopped is not None:
        spans.append(Span(REMOVAL, stopped.at, now, open=True, detail="stopped"))
    return sorted(spans, key=lambda s: s.start)


def _failure(failing: list[StateEvent], end: datetime, still: bool) -> Span:
    return Span(FAILURE, failing[0].at, end, open=still, count=len(failing),
                detail=failing[0].detail)


def gap_spans(gaps: Iterable[tuple[datetime, datetime]], quiet: Sequence[Span],
              shortest: float) -> list[Span]:
    """Stretches without a check, less the times no check was due (paused, or no longer
    watched: `quiet`), that still last at least `shortest` seconds."""
    found: list[Span] = []
    for start, end in gaps:
        for piece_start, piece_end in _without(start, end, quiet):
            if (piece_end - piece_start).total_seconds() >= shortest:
                found.append(Span(GAP, piece_start, piece_end))
    return found


def _without(start: datetime, end: datetime,
             quiet: Sequence[Span]) -> list[tuple[datetime, datetime]]:
    pieces = [(start, end)]
    for span in quiet:
        kept = []
        for a, b in pieces:
            if span.end <= a or span.start >= b:
                kept.append((a, b))
                continue
            if a < span.start:
                kept.append((a, span.start))
            if span.end < b:
                kept.append((span.end, b))
        pieces = kept
    return pieces


def quiet_spans(spans: Iterable[Span]) -> list[Span]:
    """The spans in which no check is due: paused, or no longer watched."""
    return [s for s in spans if s.kind == PAUSED or (s.kind == REMOVAL and s.detail == "stopped")]
