"""The domain events: what happened to a monitored document, in the user's words.

Each event is a frozen dataclass with a `type` (the name stored in the log) and
a `schema_version`. Converting them to rows and back — and upcasting old
versions — is the job of `monitor.store.mapper`, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]
    schema_version: ClassVar[int] = 1


@dataclass(frozen=True)
class SourceRegistered(Event):
    type: ClassVar[str] = "SourceRegistered"
    name: str
    url: str
    kind: str
    interval_seconds: int
    language: str | None = None
    selector: str | None = None
    ignore: tuple[str, ...] = ()
    follow: bool = False
    translation_of: str | None = None  # stream id of the document this one translates
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceReconfigured(Event):
    """Settings changed; `changes` holds only the fields that changed, with new values."""

    type: ClassVar[str] = "SourceReconfigured"
    changes: dict[str, Any]
    reason: str = ""


@dataclass(frozen=True)
class SourcePaused(Event):
    type: ClassVar[str] = "SourcePaused"
    reason: str = ""


@dataclass(frozen=True)
class SourceResumed(Event):
    type: ClassVar[str] = "SourceResumed"


@dataclass(frozen=True)
class SourceRemoved(Event):
    type: ClassVar[str] = "SourceRemoved"
    reason: str = ""


@dataclass(frozen=True)
class BaselineImported(Event):
    """A version known from outside the monitor (a shipped capture) becomes version 1."""

    type: ClassVar[str] = "BaselineImported"
    content_hash: str
    origin: str
    title: str | None = None
    published: str | None = None
    raw_hash: str | None = None  # the capture's bytes, kept as evidence


@dataclass(frozen=True)
class VersionCaptured(Event):
    """The monitor read content it had not stored for this document before."""

    type: ClassVar[str] = "VersionCaptured"
    # 2: `items`, a list source's entries as data; 1 had them only in the version's
    # text, as "date title (id)" lines (upcast to None: monitor.store.listed reads them).
    schema_version: ClassVar[int] = 2
    content_hash: str
    url: str
    title: str | None = None
    published: str | None = None
    raw_hash: str | None = None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    # How the adapter read it (monitor.sources.base.Capture.evidence).
    evidence: dict[str, Any] = field(default_factory=dict)
    # A list source's items ({item_id, url, title, published}: ListedItem.to_data), in
    # the list's order; None for a source that lists nothing, and in upcast v1 events.
    items: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class ChangeDetected(Event):
    """The document's text differs from its previous version in a way that matters."""

    type: ClassVar[str] = "ChangeDetected"
    # 2: `change` keeps each text once (Change.to_stored); 1 kept the full shape.
    schema_version: ClassVar[int] = 2
    from_hash: str
    to_hash: str
    significance: str
    classes: tuple[str, ...]
    summary: str
    change: dict[str, Any]  # monitor.diff.Change.to_stored(); read with Change.from_dict


@dataclass(frozen=True)
class ChangeRechecked(Event):
    """A change read again after its confirmation delay (`confirm`, monitor.confirm):
    whether the text stayed (`confirmed`), went back to what it was before the change
    (`reverted`: A→B→A), changed once more (`changed_again`), or could not be read
    (`unchecked`). `by` is the ChangeDetected that reverted it or changed it again;
    every change stays recorded as it was, this only links them."""

    type: ClassVar[str] = "ChangeRechecked"
    change_id: str  # event id of the ChangeDetected re-checked
    outcome: str  # one of monitor.confirm.OUTCOMES
    delay_seconds: float
    by: str | None = None
    content_hash: str | None = None  # the document's text when it was re-checked
    detail: str = ""


@dataclass(frozen=True)
class DocumentPublished(Event):
    """A list source shows an article it did not list before."""

    type: ClassVar[str] = "DocumentPublished"
    item_id: str
    url: str
    title: str
    published: str | None = None
    registered_as: str | None = None  # stream id when `follow` registered it


@dataclass(frozen=True)
class DocumentRemoved(Event):
    """The document is gone, confirmed on several consecutive checks."""

    type: ClassVar[str] = "DocumentRemoved"
    # 2: `judged_by` and `evidence` say how the last check judged it gone
    # (monitor.removal); 1 had only the status (upcast in monitor.store.mapper).
    schema_version: ClassVar[int] = 2
    status: int | None
    confirmations: int
    last_hash: str | None = None
    judged_by: str = "http_404"  # one of monitor.removal.JUDGEMENTS
    evidence: dict[str, Any] = field(default_factory=dict)  # final_url, status, phrase


@dataclass(frozen=True)
class FetchFailedEvent(Event):
    type: ClassVar[str] = "FetchFailed"
    kind: str
    message: str
    status: int | None = None


@dataclass(frozen=True)
class SourceRecovered(Event):
    type: ClassVar[str] = "SourceRecovered"
    failures: int


@dataclass(frozen=True)
class MasksProposed(Event):
    """A part of the page was seen to flap (it reverted, or it changed alone twice in a
    row): masks that would have kept it out, for a person to accept (`monitor learn
    NAME --accept`), or applied at once under `[defaults] apply_proposed_masks`."""

    type: ClassVar[str] = "MasksProposed"
    volatile: tuple[str, ...]
    reason: str
    from_hash: str | None = None
    to_hash: str | None = None


@dataclass(frozen=True)
class CheckpointSigned(Event):
    """The monitor signed the root of the whole log up to `position` (monitor.evidence):
    its own event comes after that position. `proof` shows the tree of `previous`
    events (the checkpoint before) is the start of this one."""

    type: ClassVar[str] = "CheckpointSigned"
    position: int
    events: int
    root: str
    time: str
    key_id: str
    signature: str
    previous: int | None = None
    proof: tuple[str, ...] = ()
    tsa_token: str | None = None  # an RFC 3161 timestamp of the signed message (base64 DER)


@dataclass(frozen=True)
class ChecksSummarized(Event):
    """The check ledger's rows after `after` up to `last` (monitor.evidence.ledger),
    committed to before a checkpoint signs the log: `root` is the RFC 6962 Merkle root
    over the rows' leaves in id order; `tags` (base64) the first two bytes of each
    leaf's hash, so that `verify` can name the row that no longer matches."""

    type: ClassVar[str] = "ChecksSummarized"
    after: int
    last: int
    checks: int
    sources: int
    first_at: str
    last_at: str
    root: str
    tags: str = ""


@dataclass(frozen=True)
class ArchiveCopyRecorded(Event):
    """A public archive copied the document's page on request, for a change (the
    `wayback` alert channel): where that copy can be read, independent of this store."""

    type: ClassVar[str] = "ArchiveCopyRecorded"
    archive_url: str  # e.g. https://web.archive.org/web/20251211093000/https://…
    url: str  # the page the archive was asked to copy
    change_event_id: str  # the ChangeDetected or DocumentPublished it was made for
    document_version: int | None = None  # the stored version it belongs to, if any
    archived_at: str | None = None  # the archive's own moment, UTC: YYYYMMDDhhmmss
    archive: str = "wayback"  # the channel kind that made it
    channel: str = ""  # the channel's name
    job_id: str | None = None  # the archive's id of the capture


ALL_EVENTS: tuple[type[Event], ...] = (
    SourceRegistered,
    SourceReconfigured,
    SourcePaused,
    SourceResumed,
    SourceRemoved,
    BaselineImported,
    VersionCaptured,
    ChangeDetected,
    DocumentPublished,
    DocumentRemoved,
    FetchFailedEvent,
    SourceRecovered,
    MasksProposed,
    ChangeRechecked,
    CheckpointSigned,
    ChecksSummarized,
    ArchiveCopyRecorded,
)

# A failure streak is the run of FetchFailed events after the last of these in a stream
# (the "failing" alert and the recording of repeated failures both count from it).
FAILURE_STREAK_ENDS = ("SourceRegistered", "BaselineImported", "VersionCaptured",
                       "SourceRecovered", "DocumentRemoved")
