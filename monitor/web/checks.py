"""When a source was checked, as its check ledger rows say (monitor.evidence.ledger):
how many checks, the first and the last, and the stretches without one.

Read with the ledger's (source, at) index, and the stretches found by the database
(`lag` over the source's rows), so a source checked every minute for a year sends
back its few gaps, not half a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from monitor.evidence.ledger import moment, seconds
from monitor.store.schema import check_ledger, check_sources

# A stretch counts as a gap in checking when it is longer than this many intervals, and
# than MIN_GAP: a check may wait its turn behind others, and a daemon restart takes
# minutes, but three checks missed in a row is not the scheduler's jitter.
GAP_INTERVALS = 3
MIN_GAP = 3600  # seconds


@dataclass(frozen=True)
class Checks:
    count: int = 0
    first: datetime | None = None  # naive UTC
    last: datetime | None = None
    ledger_since: datetime | None = None  # the ledger's first row, any source's
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)


def gap_threshold(interval_seconds: int) -> int:
    """The seconds without a check that make a gap, for a source checked this often."""
    return max(GAP_INTERVALS * interval_seconds, MIN_GAP)


def source_checks(conn: Connection, stream_id: str, since: datetime, now: datetime,
                  threshold: int) -> Checks:
    """The source's checks and the gaps longer than `threshold` seconds between `since`
    (its registration) and `now`. Nothing before the ledger's first row is called a gap:
    stores older than the ledger have no rows for their early checks."""
    began = conn.execute(select(check_ledger.c.at).order_by(check_ledger.c.id).limit(1)).scalar()
    if began is None:
        return Checks()
    start = max(seconds(since), int(began))
    until = seconds(now)
    number = conn.execute(select(check_sources.c.no)
                          .where(check_sources.c.stream_id == stream_id)).scalar()
    count, first, last = 0, None, None
    if number is not None:
        count, first, last = conn.execute(
            select(func.count(), func.min(check_ledger.c.at), func.max(check_ledger.c.at))
            .where(check_ledger.c.source == number)).one()
    gaps: list[tuple[int, int]] = []
    if first is None or last is None:
        gaps.append((start, until))
    else:
        gaps.append((start, int(first)))
        gaps.extend(_between(conn, number, threshold))
        gaps.append((int(last), until))
    return Checks(count=count, first=_moment(first), last=_moment(last),
                  ledger_since=moment(int(began)),
                  gaps=[(moment(a), moment(b)) for a, b in gaps if b - a > threshold])


def _between(conn: Connection, number: int | None, threshold: int) -> list[tuple[int, int]]:
    at = check_ledger.c.at
    lagged = (select(at.label("at"), func.lag(at).over(order_by=at).label("before"))
              .where(check_ledger.c.source == number).subquery())
    rows = conn.execute(select(lagged.c.before, lagged.c.at)
                        .where(lagged.c.at - lagged.c.before > threshold)
                        .order_by(lagged.c.at))
    return [(int(before), int(after)) for before, after in rows]


def _moment(at: int | None) -> datetime | None:
    return None if at is None else moment(int(at))
