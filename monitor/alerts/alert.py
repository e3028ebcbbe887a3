"""An alert: what one channel is told about one event, and its webhook body.

The webhook body (`payload`) is the Standard Webhooks envelope
{"type", "timestamp", "data"}; for a change, `data` is the change in the one
shape of monitor/schemas/change.schema.json (the same dict the report's JSON
holds), made by monitor.changes.data.change_data. Page text in it is capped,
never trusted: channels that render it as HTML escape it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.changes.record import ChangeRecord
from monitor.changes.titles import label, record_label
from monitor.diff import Hunk
from monitor.moments import utc_iso

TYPES = {
    "changed": "change.detected",
    "reverted": "change.reverted",
    "published": "document.published",
    "removed": "document.removed",
    "failing": "source.failing",
    "checkpoint": "log.checkpoint",  # opt-in: monitor.evidence.alerting
}


def alert_id(event_id: str, channel: str) -> str:
    """The stable id of an event's alert on a channel: a resend carries the same one."""
    digest = hashlib.sha256(f"{event_id}\n{channel}".encode()).hexdigest()
    return f"alert_{digest[:32]}"


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str  # changed | reverted | published | removed | failing
    event_id: str
    event_position: int
    source_name: str
    source_url: str
    detected_at: datetime  # UTC, naive like every time in the store
    significance: str  # low | medium | high
    classes: tuple[str, ...]
    summary: str
    title: str | None = None  # the document's title; None when never known
    record: ChangeRecord | None = None  # for changed, published and removed
    data: Mapping[str, Any] = field(default_factory=dict)  # the webhook's "data"
    details: Mapping[str, Any] = field(default_factory=dict)  # "failing" only, see README
    # A change's new version's screenshot (its blob's sha256), when one was taken: the
    # e-mail channel attaches it when asked to (monitor.screenshots).
    screenshot: str | None = None

    @property
    def type(self) -> str:
        return TYPES[self.kind]

    @property
    def hunks(self) -> tuple[Hunk, ...]:
        return self.record.hunks if self.record is not None else ()

    @property
    def history_command(self) -> str:
        return f"monitor history {self.source_name}"

    def label(self, limit: int) -> str:
        """'Title (source)', 'Old → New (source)' or 'source (title unknown)'."""
        if self.record is not None:
            return record_label(self.record, limit)
        return label(self.title, self.source_name, limit=limit)


def payload(alert: Alert) -> dict[str, Any]:
    """The webhook body: the Standard Webhooks envelope. `timestamp` is when the
    event was recorded, so every retry sends the same body."""
    return {"type": alert.type, "timestamp": utc_iso(alert.detected_at), "data": dict(alert.data)}
