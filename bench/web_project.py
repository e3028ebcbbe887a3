"""The projection rows of a bulk load, made by the monitor's own code: each worker
replays its sources' events, numbered, through the real `projections.apply` into a
private in-memory SQLite database, and hands back the rows of every projection table.

Every projection row belongs to one stream and every handler reads only its own
stream's rows (monitor/store/replay_check.py relies on the same), so sources can be
replayed apart, in parallel, and the rows are those the appends would have left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from monitor.store.mapper import StoredEvent
from monitor.store.projections import apply
from monitor.store.schema import PROJECTION_TABLES

Rows = dict[str, list[dict[str, Any]]]  # table name -> rows


def project(streams: Sequence[Sequence[dict[str, Any]]]) -> Rows:
    """Each stream's events (rows with their position, in order) through `apply`."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    for table in PROJECTION_TABLES:
        table.create(engine)
    try:
        with engine.connect() as conn, conn.begin():
            for events in streams:
                for e in events:
                    apply(conn, [StoredEvent(
                        e["position"], e["event_id"], e["stream_id"], e["version"], e["type"],
                        e["schema_version"], e["data"], e["recorded_at"], e["prev_hash"],
                        e["hash"])])
            return {table.name: [dict(r._mapping) for r in conn.execute(select(table))]
                    for table in PROJECTION_TABLES}
    finally:
        engine.dispose()
