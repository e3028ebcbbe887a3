"""What a report covers: a time window, a source glob and a minimum significance.

Parsing the user's words into a `ReportFilter` is pure; a bad value raises
`UsageError` with one line that says what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

from monitor import classify
from monitor.errors import UsageError

SIGNIFICANCE_LEVELS = (classify.LOW, classify.MEDIUM, classify.HIGH)
_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class ReportFilter:
    since: datetime | None = None  # inclusive, naive UTC
    until: datetime | None = None  # exclusive, naive UTC
    source_glob: str | None = None  # matched against source names, case-sensitive
    min_significance: str | None = None  # low | medium | high

    def matches_source(self, name: str) -> bool:
        return self.source_glob is None or fnmatchcase(name, self.source_glob)

    def matches_significance(self, significance: str) -> bool:
        if self.min_significance is None:
            return True
        if significance not in SIGNIFICANCE_LEVELS:
            return False
        wanted = SIGNIFICANCE_LEVELS.index(self.min_significance)
        return SIGNIFICANCE_LEVELS.index(significance) >= wanted


def parse_filter(since: str | None, until: str | None, source_glob: str | None,
                 min_significance: str | None, now: datetime) -> ReportFilter:
    """`now` is naive UTC. `since`: '7d' (m, h, d, w) or an ISO date/time;
    `until`: an ISO date/time, a bare date meaning the end of that day."""
    start = parse_since(since, now) if since else None
    end = parse_until(until) if until else None
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--since {since} is not before --until {until}")
    level = min_significance.strip().lower() if min_significance else None
    if level is not None and level not in SIGNIFICANCE_LEVELS:
        raise UsageError(f"--min-significance {min_significance!r}: use low, medium or high")
    return ReportFilter(start, end, source_glob or None, level)


def parse_since(value: str, now: datetime) -> datetime:
    match = _RELATIVE.match(value)
    try:
        if match:
            return now - timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
        return _iso(value)
    except OverflowError:  # 999999999d back, or year 9999 moved to UTC: past any date
        raise UsageError(f"--since {value!r}: out of the range of dates (years 1 to 9999)") \
            from None
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use a period such as 30m, 12h, 7d, 2w or an ISO date/time "
            "such as 2025-12-01 or 2025-12-01T09:00Z"
        ) from None


def parse_until(value: str) -> datetime:
    try:
        moment = _iso(value)
        return moment + timedelta(days=1) if _is_date(value) else moment
    except OverflowError:  # 9999-12-31 as a whole day ends past any date
        raise UsageError(f"--until {value!r}: out of the range of dates (years 1 to 9999)") \
            from None
    except ValueError:
        raise UsageError(
            f"--until {value!r}: use an ISO date/time such as 2025-12-11 or 2025-12-11T18:00Z"
        ) from None


def _iso(value: str) -> datetime:
    """An ISO date or date-time as naive UTC; without an offset it is UTC."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _is_date(value: str) -> bool:
    return re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value) is not None
