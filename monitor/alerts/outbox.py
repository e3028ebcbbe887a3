"""The outbox tables, read and written: positions, delivery rows, claims.

The one dialect difference lives in `claim`: PostgreSQL takes a due row with
`FOR UPDATE SKIP LOCKED`, so dispatchers on other machines pick different
rows instead of queueing on one; SQLite ignores that clause and needs it not,
because the claim runs under BEGIN IMMEDIATE (one writer at a time).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from monitor.alerts.schema import deliveries, dispatch_positions
from monitor.store.database import WRITE
from monitor.store.schema import events

DUE_STATES = ("pending", "retrying", "sending")  # 'sending' is due once its lease ran out


def ensure_position(engine: Engine, name: str, since: datetime | None = None) -> None:
    """Create the dispatcher's position row if it is not there yet: just before the
    first event recorded at or after `since` (UTC), or at the start of the log."""
    with engine.connect().execution_options(**WRITE) as conn:
        try:
            with conn.begin():
                exists = conn.execute(select(dispatch_positions.c.name)
                                      .where(dispatch_positions.c.name == name)).first()
                if exists is None:
                    start = 0
                    if since is not None:  # before the first event inside the window
                        first = conn.execute(select(func.min(events.c.position))
                                             .where(events.c.recorded_at >= since)).scalar()
                        last = conn.execute(select(func.max(events.c.position))).scalar()
                        start = int(first) - 1 if first is not None else int(last or 0)
                    conn.execute(insert(dispatch_positions).values(name=name, position=start))
        except IntegrityError:
            pass  # another dispatcher of this name created it first


def locked_position(conn: Connection, name: str) -> int:
    """The dispatcher's position, locked until the transaction ends (PostgreSQL),
    so two dispatchers of one name take turns over each batch of the log."""
    return int(conn.execute(
        select(dispatch_positions.c.position)
        .where(dispatch_positions.c.name == name).with_for_update()
    ).scalar_one())


def save_position(conn: Connection, name: str, position: int) -> None:
    conn.execute(update(dispatch_positions).where(dispatch_positions.c.name == name)
                 .values(position=position))


def events_after(conn: Connection, position: int, limit: int) -> list[Any]:
    return list(conn.execute(
        select(events.c.position, events.c.event_id, events.c.stream_id, events.c.version,
               events.c.type, events.c.schema_version, events.c.data, events.c.recorded_at)
        .where(events.c.position > position).order_by(events.c.position).limit(limit)
    ))


def add(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert delivery rows, skipping any that exist (same event and channel).
    Returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(deliveries).on_conflict_do_nothing().returning(deliveries.c.id)
    return len(conn.execute(statement, list(rows)).all())


def claim(conn: Connection, channels: Collection[str], now: datetime, lease_until: datetime,
          token: str) -> Any | None:
    """Take the next due delivery of one of `channels`: mark it 'sending' under
    `token` until `lease_until`. The caller commits before sending."""
    if not channels:
        return None
    row = conn.execute(
        select(deliveries)
        .where(deliveries.c.state.in_(DUE_STATES), deliveries.c.next_attempt_at <= now,
               deliveries.c.channel.in_(sorted(channels)))
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    conn.execute(update(deliveries).where(deliveries.c.id == row.id)
                 .values(state="sending", claim_token=token, next_attempt_at=lease_until))
    return row


def finish(conn: Connection, delivery_id: int, token: str, **values: Any) -> bool:
    """Record a try's outcome, if the claim is still ours (False: the lease ran
    out and another dispatcher took the row)."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.claim_token == token,
               deliveries.c.state == "sending")
        .values(claim_token=None, **values)
    )
    return result.rowcount == 1


def listing(engine: Engine, states: Iterable[str] = (), channel: str | None = None,
            limit: int | None = None, dead_first: bool = False,
            before: int | None = None) -> list[Any]:
    """Deliveries, newest first; with `dead_first`, the dead letters (failed for
    good, waiting for someone to retry them) before the rest; with `before`, only
    those older than that delivery id (the next page of a newest-first list)."""
    query = select(deliveries)
    if before is not None:
        query = query.where(deliveries.c.id < before)
    if dead_first:
        query = query.order_by(case((deliveries.c.state == "dead", 0), else_=1))
    query = query.order_by(deliveries.c.id.desc())
    if states:
        query = query.where(deliveries.c.state.in_(list(states)))
    if channel:
        query = query.where(deliveries.c.channel == channel)
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(query))


def delivery(engine: Engine, delivery_id: int) -> Any | None:
    with engine.connect() as conn:
        return conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.state, func.count()).group_by(deliveries.c.state))
        return {state: int(n) for state, n in rows}


def requeue(engine: Engine, ids: Iterable[int] | None, now: datetime) -> list[int]:
    """Put dead deliveries (the given ones, or all when `ids` is None) back to
    pending with a fresh set of attempts. Returns the ids requeued."""
    condition = deliveries.c.state == "dead"
    if ids is not None:
        condition = condition & deliveries.c.id.in_(list(ids))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        found = [int(i) for i in conn.execute(select(deliveries.c.id).where(condition)).scalars()]
        if found:
            conn.execute(update(deliveries).where(deliveries.c.id.in_(found)).values(
                state="pending", attempts=0, next_attempt_at=now, claim_token=None))
        return found
