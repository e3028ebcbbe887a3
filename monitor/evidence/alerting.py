"""The `checkpoint` alert: a channel that asks for it (events = [..., "checkpoint"]; never
by default) is sent each signed checkpoint, so a mailbox or a webhook receiver becomes a
witness too. The webhook type is `log.checkpoint`; `data` is the checkpoint as the
witness file holds it, with the event that records it."""

from __future__ import annotations

from typing import Any

from monitor.alerts.alert import Alert
from monitor.events import CheckpointSigned
from monitor.moments import utc_iso

TITLE = "log checkpoint"


def summary(event: CheckpointSigned) -> str:
    return (f"checkpoint signed: {event.events} events up to position {event.position}, "
            f"root {event.root} (key {event.key_id})")


def checkpoint_alert(common: dict[str, Any], row: Any, event: CheckpointSigned) -> Alert:
    statement = {"position": event.position, "events": event.events, "root": event.root,
                 "time": event.time, "key_id": event.key_id, "signature": event.signature,
                 "previous": event.previous, "proof": list(event.proof)}
    if event.tsa_token is not None:
        statement["tsa_token"] = event.tsa_token
    data = {"event_id": row.event_id, "event_position": row.position,
            "detected_at": utc_iso(row.recorded_at), "summary": summary(event),
            "checkpoint": statement}
    return Alert(**common, significance="low", classes=("checkpoint",), summary=summary(event),
                 title=TITLE, data=data)
