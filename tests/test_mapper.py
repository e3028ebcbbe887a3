"""Events become rows and back; old schema versions are upcast on reading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from monitor.errors import PersistenceError
from monitor.events import ALL_EVENTS, ChangeDetected, Event, VersionCaptured
from monitor.store.mapper import register_event, register_upcaster, to_data, to_event


@dataclass(frozen=True)
class NoteAdded(Event):
    """A test event whose schema moved from v1 {text} to v2 {body, author}."""

    type: ClassVar[str] = "TestNoteAdded"
    schema_version: ClassVar[int] = 2
    body: str
    author: str


def test_every_event_round_trips_through_its_row() -> None:
    captured = VersionCaptured(content_hash="a" * 64, url="http://x", redirects=("http://y",))
    assert to_event("VersionCaptured", 1, to_data(captured)) == captured
    change = ChangeDetected(from_hash="a", to_hash="b", significance="low",
                            classes=("confusable",), summary="s", change={"hunks": []})
    assert to_event("ChangeDetected", 1, to_data(change)) == change
    assert len({cls.type for cls in ALL_EVENTS}) == len(ALL_EVENTS)


def test_an_old_stored_event_is_upcast_when_read(store) -> None:
    register_event(NoteAdded)
    register_upcaster("TestNoteAdded", 1,
                      lambda data: {"body": data.pop("text"), "author": "unknown", **data})
    with store.engine.begin() as conn:
        from sqlalchemy import insert

        from monitor.store.eventstore import chain_hash, hash_payload, utcnow
        from monitor.store.schema import events, streams

        now = utcnow()
        data = {"text": "written by an older monitor"}
        digest = chain_hash("", hash_payload("e" * 32, "notes", 1, "TestNoteAdded", 1, data, now))
        conn.execute(insert(events).values(
            event_id="e" * 32, stream_id="notes", version=1, type="TestNoteAdded",
            schema_version=1, data=data, recorded_at=now, prev_hash="", hash=digest))
        conn.execute(insert(streams).values(stream_id="notes", version=1, head_hash=digest))
    [stored] = store.read_stream("notes")
    assert stored.event == NoteAdded(body="written by an older monitor", author="unknown")


def test_an_event_newer_than_this_program_is_a_clear_error() -> None:
    with pytest.raises(PersistenceError, match="newer than this program"):
        to_event("VersionCaptured", 9, {"content_hash": "a", "url": "u"})
    with pytest.raises(PersistenceError, match="unknown event type"):
        to_event("SomethingElse", 1, {})
