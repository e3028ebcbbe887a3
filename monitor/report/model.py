"""What a report is made of: changes as the user reads them, and version diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.diff import Hunk

CHANGED, PUBLISHED, REMOVED = "changed", "published", "removed"


@dataclass(frozen=True)
class ReportChange:
    """One recorded change (an edit, a publication or a removal) of one source."""

    event_position: int
    event_id: str
    kind: str  # changed | published | removed
    source: str  # the source's name
    url: str  # the document's URL (the new article's for a publication)
    detected_at: datetime  # naive UTC
    significance: str  # low | medium | high
    classes: tuple[str, ...]
    summary: str
    hunks: tuple[Hunk, ...] = ()  # only for kind "changed"
    from_version: int | None = None
    to_version: int | None = None


@dataclass(frozen=True)
class Report:
    changes: tuple[ReportChange, ...]
    generated_at: datetime  # naive UTC
    since: datetime | None = None  # the window the report covers
    until: datetime | None = None
    source_glob: str | None = None  # the filters it was made with
    min_significance: str | None = None


@dataclass(frozen=True)
class VersionDiff:
    """The difference between two stored versions of one source, computed on demand."""

    source: str
    url: str
    from_version: int
    to_version: int
    from_captured_at: datetime  # naive UTC
    to_captured_at: datetime
    significance: str
    classes: tuple[str, ...]
    summary: str
    hunks: tuple[Hunk, ...]


def utc_text(moment: datetime) -> str:
    """'2025-12-11 09:30 UTC', for people."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"
