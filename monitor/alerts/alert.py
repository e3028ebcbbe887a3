"""An alert: what one channel is told about one event, and its JSON form.

The JSON form (`payload`) is the webhook body and is documented in
monitor/alerts/README.md. Page text in it is capped, never trusted: channels
that render it as HTML escape it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.diff import Hunk

TYPES = {
    "changed": "change.detected",
    "published": "document.published",
    "removed": "document.removed",
    "failing": "source.failing",
}
MAX_HUNKS = 50  # hunks in one alert; the rest are counted, not sent
MAX_HUNK_CHARS = 20_000  # old + new text of one hunk; longer ones are cut, without ops


def alert_id(event_id: str, channel: str) -> str:
    """The stable id of an event's alert on a channel: a resend carries the same one."""
    digest = hashlib.sha256(f"{event_id}\n{channel}".encode()).hexdigest()
    return f"alert_{digest[:32]}"


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str  # changed | published | removed | failing
    event_id: str
    event_position: int
    source_name: str
    source_url: str
    detected_at: datetime  # UTC, naive like every time in the store
    significance: str  # low | medium | high
    classes: tuple[str, ...]
    summary: str
    hunks: tuple[Hunk, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)  # per kind, see README

    @property
    def type(self) -> str:
        return TYPES[self.kind]

    @property
    def history_command(self) -> str:
        return f"monitor history {self.source_name}"


def iso_utc(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def where(hunk: Hunk) -> str:
    """Where a hunk is, for people: 'title', 'date' or 'paragraph 3'."""
    if hunk.kind in ("title", "date"):
        return hunk.kind
    index = hunk.new_index if hunk.new_index is not None else hunk.old_index
    return f"paragraph {(index or 0) + 1}"


def payload(alert: Alert) -> dict[str, Any]:
    """The alert as JSON-ready data (the webhook body)."""
    body: dict[str, Any] = {
        "id": alert.id,
        "type": alert.type,
        "event_id": alert.event_id,
        "event_position": alert.event_position,
        "source": {"name": alert.source_name, "url": alert.source_url},
        "detected_at": iso_utc(alert.detected_at),
        "significance": alert.significance,
        "classes": list(alert.classes),
        "summary": alert.summary,
        "hunks": [_hunk(h) for h in alert.hunks[:MAX_HUNKS]],
        "hunks_omitted": max(0, len(alert.hunks) - MAX_HUNKS),
        "links": {"history": alert.history_command, "source": alert.source_url},
    }
    body.update(alert.details)
    return body


def _hunk(hunk: Hunk) -> dict[str, Any]:
    truncated = len(hunk.old) + len(hunk.new) > MAX_HUNK_CHARS
    half = MAX_HUNK_CHARS // 2
    return {
        "kind": hunk.kind,
        "where": where(hunk),
        "classes": list(hunk.classes),
        "old": hunk.old[:half] if truncated else hunk.old,
        "new": hunk.new[:half] if truncated else hunk.new,
        "ops": [] if truncated else [
            {"op": op.tag, "old": op.old, "new": op.new} for op in hunk.ops
        ],
        "truncated": truncated,
    }
