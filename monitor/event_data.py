"""An event of the log as JSON-ready data: what `monitor events --json` prints, one
object a line, and the web app's API pages through (GET /api/v1/events). Made in one
place so the two cannot drift apart. `data` holds page text as recorded: whoever
shows it escapes it."""

from __future__ import annotations

from typing import Any

from monitor.moments import utc_iso
from monitor.store.mapper import StoredEvent


def event_data(event: StoredEvent) -> dict[str, Any]:
    return {
        "position": event.position, "event_id": event.event_id, "stream_id": event.stream_id,
        "version": event.version, "type": event.type, "schema_version": event.schema_version,
        "recorded_at": utc_iso(event.recorded_at), "data": event.data,
        "hash": event.hash,
    }
