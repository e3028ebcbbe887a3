"""The one place where domain events become stored rows and back.

Old rows stay readable: when an event's schema changes, bump its
`schema_version` and register an upcaster here that turns the old `data` into
the new shape. Readers never see an old shape.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.errors import PersistenceError
from monitor.events import ALL_EVENTS, Event

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in ALL_EVENTS}
# (type, stored schema version) -> function returning data of schema version + 1
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(event_type: str, from_version: int, upcaster: Upcaster) -> None:
    _UPCASTERS[(event_type, from_version)] = upcaster


def register_event(cls: type[Event]) -> None:
    _EVENT_TYPES[cls.type] = cls


@dataclass(frozen=True)
class StoredEvent:
    """A row of the log, as read back."""

    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str

    @property
    def event(self) -> Event:
        return to_event(self.type, self.schema_version, self.data)


def to_data(event: Event) -> dict[str, Any]:
    """The JSON-safe payload of an event (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(event)))


def to_event(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    cls = _EVENT_TYPES.get(event_type)
    if cls is None:
        raise PersistenceError(f"unknown event type {event_type!r} in the log")
    if schema_version > cls.schema_version:
        raise PersistenceError(
            f"event {event_type} has schema version {schema_version}, newer than this "
            f"program knows ({cls.schema_version}); upgrade govkz-monitor"
        )
    while schema_version < cls.schema_version:
        upcaster = _UPCASTERS.get((event_type, schema_version))
        if upcaster is None:
            raise PersistenceError(f"no upcaster for {event_type} v{schema_version}")
        data = upcaster(dict(data))
        schema_version += 1
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if isinstance(value, list) and str(f.type).startswith("tuple"):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _compact_change(data: dict[str, Any]) -> dict[str, Any]:
    """ChangeDetected 1 -> 2: the change's texts kept once (see monitor.diff)."""
    from monitor.diff import stored_change

    return {**data, "change": stored_change(data["change"])}


register_upcaster("ChangeDetected", 1, _compact_change)


def _judged_removal(data: dict[str, Any]) -> dict[str, Any]:
    """DocumentRemoved 1 -> 2: before redirects and not-found pages counted, a removal
    was always judged by the answer's status."""
    from monitor.removal import for_status

    return {**data, "judged_by": for_status(data.get("status")), "evidence": {}}


register_upcaster("DocumentRemoved", 1, _judged_removal)


def _items_in_text(data: dict[str, Any]) -> dict[str, Any]:
    """VersionCaptured 1 -> 2: a list's items were only in the version's text; None says
    so, and monitor.store.listed reads them from that text when they are asked for."""
    return {**data, "items": None}


register_upcaster("VersionCaptured", 1, _items_in_text)
