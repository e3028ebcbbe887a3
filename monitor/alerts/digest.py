"""Digests: a channel with `digest = "1h"` gets one message per period.

Its alerts are enqueued 'held', due at the end of their period (periods are
aligned to the channel's timezone: "1d" ends at local midnight, "1h" on the
hour). When a period has ended, ONE transaction turns its held alerts into a
digest: a new delivery of kind 'digest' (pending, sent like any other), and
the members marked 'digested' with its id. The digest's id is derived from the
channel, the period and its members' ids, so a resend after a crash carries
the same id (`webhook-id`, Message-ID) and no alert is in two digests, or in
none: the outbox's guarantees hold for digests as for single alerts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from monitor.alerts.alert import Alert
from monitor.alerts.derive import build_alert
from monitor.alerts.schema import deliveries
from monitor.changes.titles import label
from monitor.i18n import Reader
from monitor.moments import utc_iso
from monitor.store.database import WRITE

KIND = "digest"
TYPE = "digest"  # the webhook's `type`
HELD, DIGESTED = "held", "digested"
_LEVELS = {"high": 3, "medium": 2, "low": 1, "none": 0}
_EPOCH = datetime(1970, 1, 1)


def period_end(now: datetime, seconds: float, reader: Reader) -> datetime:
    """The end (naive UTC) of the period holding `now` (naive UTC): the next
    multiple of `seconds` on the reader's wall clock, counted from 1970-01-01
    local midnight, so "1d" ends at local midnight and "1h" on the hour."""
    wall = reader.local(now).replace(tzinfo=None)
    elapsed = (wall - _EPOCH).total_seconds()
    end = _EPOCH + timedelta(seconds=math.floor(elapsed / seconds + 1) * seconds)
    return end.replace(tzinfo=reader.zone).astimezone(UTC).replace(tzinfo=None)


def digest_id(channel: str, end: datetime, members: Iterable[str]) -> str:
    key = "\n".join([channel, utc_iso(end), *sorted(members)])
    return f"digest_{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def bundle_due(engine: Engine, periods: Mapping[str, float], now: datetime,
               single: Collection[str] = ()) -> int:
    """Turn every ended period's held alerts into one digest delivery per channel
    and period. `periods`: the digest channels and their period in seconds;
    `single`: channels without a digest, whose held alerts (held while they had
    one) are released to be sent alone. Returns how many digests were made."""
    is_held = deliveries.c.state == HELD
    with engine.connect() as conn:  # most calls find nothing: no write lock for them
        waiting = set(conn.execute(select(deliveries.c.channel).distinct().where(
            is_held, deliveries.c.channel.in_(sorted({*single, *periods})),
            or_(deliveries.c.next_attempt_at <= now, deliveries.c.channel.in_(sorted(single)))
        )).scalars())
    if waiting & set(single):
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(update(deliveries).where(
                is_held, deliveries.c.channel.in_(sorted(waiting & set(single))))
                .values(state="pending", next_attempt_at=now))
    if not waiting & set(periods):
        return 0
    made = 0
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        held = conn.execute(
            select(deliveries.c.id, deliveries.c.alert_id, deliveries.c.channel,
                   deliveries.c.next_attempt_at, deliveries.c.event_position,
                   deliveries.c.stream_id)
            .where(deliveries.c.state == HELD, deliveries.c.next_attempt_at <= now,
                   deliveries.c.channel.in_(sorted(periods)))
            .order_by(deliveries.c.id).with_for_update()
        ).all()
        groups: dict[tuple[str, datetime], list[Any]] = {}
        for row in held:
            groups.setdefault((row.channel, row.next_attempt_at), []).append(row)
        for (channel, end), members in groups.items():
            made += _bundle(conn, channel, end, periods[channel], members, now)
    return made


def _bundle(conn: Connection, channel: str, end: datetime, seconds: float,
            members: list[Any], now: datetime) -> int:
    ident = digest_id(channel, end, (m.alert_id for m in members))
    documents = len({m.stream_id for m in members})
    conn.execute(insert(deliveries).values(
        alert_id=ident, event_position=max(m.event_position for m in members),
        event_id=ident.removeprefix("digest_"), stream_id="", channel=channel, kind=KIND,
        summary=f"{len(members)} alerts on {documents} documents, period ending "
                f"{utc_iso(end)} ({seconds:g} s)",
        state="pending", attempts=0, next_attempt_at=now, created_at=now))
    conn.execute(update(deliveries).where(deliveries.c.id.in_([m.id for m in members]))
                 .values(state=DIGESTED, digest_id=ident))
    return 1


@dataclass(frozen=True)
class DocumentGroup:
    """The alerts of one document (one source) in a digest."""

    source_name: str
    title: str | None
    significance: str  # the highest of its alerts
    alerts: tuple[Alert, ...]  # in the order they were recorded

    def label(self, limit: int) -> str:
        """'Title (source)', with the latest title; 'source (title unknown)'."""
        return label(self.title, self.source_name, limit=limit)


@dataclass(frozen=True)
class Digest:
    id: str
    channel: str
    start: datetime  # naive UTC: the period [start, end)
    end: datetime
    alerts: tuple[Alert, ...]

    @property
    def documents(self) -> list[DocumentGroup]:
        """Grouped by document; the most significant documents first, then the
        ones changed first."""
        grouped: dict[str, list[Alert]] = {}
        for alert in sorted(self.alerts, key=lambda a: a.event_position):
            grouped.setdefault(alert.source_name, []).append(alert)
        groups = [
            DocumentGroup(name, next((a.title for a in reversed(found) if a.title), None),
                          max((a.significance for a in found), key=_level), tuple(found))
            for name, found in grouped.items()
        ]
        return sorted(groups, key=lambda g: -_level(g.significance))  # stable: first first

    @property
    def significance(self) -> str:
        return max((a.significance for a in self.alerts), key=_level, default="none")


def load(conn: Connection, row: Any, period: float | None,
         public_url: str | None = None) -> Digest:
    """The digest of a delivery row of kind 'digest', with its members' alerts
    rebuilt from their events (the same on every try)."""
    members = conn.execute(select(deliveries).where(deliveries.c.digest_id == row.alert_id)
                           .order_by(deliveries.c.event_position)).all()
    alerts = tuple(build_alert(conn, member, public_url) for member in members)
    # The members are still due at the end of their period: it is the digest's.
    end = members[0].next_attempt_at if members else row.created_at
    start = end - timedelta(seconds=period) if period else end
    return Digest(row.alert_id, row.channel, start, end, alerts)


def payload(digest: Digest) -> dict[str, Any]:
    """The webhook body: {"type": "digest", "timestamp": the period's end, "data":
    {"channel", "period": {"from", "to"}, "changes": [change, …] (each in the shape of
    change.schema.json, documents grouped, most significant first), "failing": […]}}."""
    ordered = [a for group in digest.documents for a in group.alerts]
    return {
        "type": TYPE,
        "timestamp": utc_iso(digest.end),
        "data": {
            "channel": digest.channel,
            "period": {"from": utc_iso(digest.start), "to": utc_iso(digest.end)},
            "significance": digest.significance,
            "documents": len(digest.documents),
            "changes": [dict(a.data) for a in ordered if a.kind != "failing"],
            "failing": [dict(a.data) for a in ordered if a.kind == "failing"],
        },
    }


def _level(significance: str) -> int:
    return _LEVELS.get(significance, len(_LEVELS))
