"""The event store, snapshots and projections (SQLAlchemy; SQLite and PostgreSQL)."""

from __future__ import annotations

from monitor.store import projections
from monitor.store.eventstore import EventStore
from monitor.store.migrate import require_current


def open_store(url: str, *, check_schema: bool = True) -> EventStore:
    """The event store for a database URL, with the projections kept in step."""
    store = EventStore.open(url, projectors=[projections.apply])
    if check_schema:
        require_current(store.engine)
    return store
