"""What a recorded change is made of, read from the log and its projections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor import classify
from monitor.diff import Hunk

CHANGED, PUBLISHED, REMOVED = "changed", "published", "removed"


@dataclass(frozen=True)
class VersionRef:
    """One stored version of a document, as a change refers to it."""

    number: int  # 1, 2, 3… in the document's history
    captured_at: datetime  # naive UTC
    text_hash: str  # sha256 of the canonical text
    raw_hash: str | None  # sha256 of the fetched bytes, when kept
    # The title and date at this version as far as known: a capture that lacked
    # one keeps the previous (the same rule as the sources projection).
    title: str | None
    published: str | None
    url: str | None  # where it was read; None for a baseline


@dataclass(frozen=True)
class Removal:
    status: int | None  # the HTTP status that said "gone", if any
    confirmations: int
    last_text: str  # the last stored version's paragraphs, whole
    judged_by: str = "http_404"  # the rule that judged it gone (monitor.removal)
    evidence: dict[str, Any] = field(default_factory=dict)  # final_url, status, phrase
    said: str = ""  # how it was judged, for people: "redirected to the home page …"


@dataclass(frozen=True)
class Publication:
    url: str
    title: str
    published: str | None
    registered_as: str | None  # stream id of the source `follow` registered


@dataclass(frozen=True)
class ChangeRecord:
    """One recorded change (an edit, a publication or a removal) of one source."""

    event_position: int
    event_id: str
    kind: str  # changed | published | removed
    source: str  # the source's name
    source_url: str  # the URL the source watches
    url: str  # the document's URL (the new document's for a publication)
    title: str | None  # the document's title; None when never known
    detected_at: datetime  # naive UTC
    significance: str
    classes: tuple[str, ...]
    summary: str
    hunks: tuple[Hunk, ...] = ()  # only for "changed"
    from_version: VersionRef | None = None  # for a removal: the last version stored
    to_version: VersionRef | None = None
    removal: Removal | None = None
    publication: Publication | None = None
    archive_url: str | None = None  # a public archive's copy of the page (monitor.changes.archives)

    @property
    def title_change(self) -> tuple[str, str] | None:
        """(old, new) when the edit changed the title."""
        hunk = next((h for h in self.hunks if h.kind == classify.TITLE), None)
        return None if hunk is None else (hunk.old, hunk.new)
