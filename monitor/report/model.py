"""What a report is made of: changes as the user reads them, and version diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.changes.record import CHANGED, PUBLISHED, REMOVED, ChangeRecord
from monitor.diff import Hunk

__all__ = ["CHANGED", "PUBLISHED", "REMOVED", "ChangeRecord", "Report", "VersionDiff"]


@dataclass(frozen=True)
class Report:
    changes: tuple[ChangeRecord, ...]  # read as alerts read them (monitor.changes.load)
    generated_at: datetime  # naive UTC
    since: datetime | None = None  # the window the report covers
    until: datetime | None = None
    source_glob: str | None = None  # the filters it was made with
    min_significance: str | None = None
    public_url: str | None = None  # `[web] public_url`: links to the web app


@dataclass(frozen=True)
class VersionDiff:
    """The difference between two stored versions of one source, computed on demand."""

    source: str
    url: str
    title: str | None  # the newer version's title, as far as known
    from_version: int
    to_version: int
    from_captured_at: datetime  # naive UTC
    to_captured_at: datetime
    significance: str
    classes: tuple[str, ...]
    summary: str
    hunks: tuple[Hunk, ...]


