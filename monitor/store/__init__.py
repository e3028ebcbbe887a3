"""The event store, snapshots and projections (SQLAlchemy; SQLite and PostgreSQL)."""

from __future__ import annotations

from monitor.store import projections, search_index
from monitor.store.eventstore import Clock, EventStore, utcnow
from monitor.store.migrate import require_current


def open_store(url: str, *, check_schema: bool = True, read_only: bool = False,
               clock: Clock = utcnow, threads: int | None = None) -> EventStore:
    """The event store for a database URL, with the projections kept in step.

    `read_only` opens it so that nothing can be written (what `sources`, `events`,
    `verify` and the other commands that only look use). `threads`: how many checks
    will run on it at once (sizes the connection pool: monitor.store.database)."""
    store = EventStore.open(url, projectors=[projections.apply, search_index.apply],
                            read_only=read_only, clock=clock, threads=threads)
    if check_schema:
        try:
            require_current(store.engine)
        except BaseException:
            store.engine.dispose()
            raise
    return store
