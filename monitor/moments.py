"""Moments as text: the one place that writes times. The store keeps naive datetimes
in UTC (a naive moment is taken as UTC; an aware one is converted).

Two forms, one rule each:
- for machines (every JSON output, API responses, webhook bodies, Atom's dates):
  `utc_iso`, RFC 3339 in UTC with a Z and always six fraction digits,
  '2026-12-02T06:10:42.123456Z': the store keeps microseconds, so nothing is lost,
  and the strings are one width, so they sort as the moments do. Formats with their
  own specification (the hash chain's `recorded_at`, evidence bundles, checkpoints,
  WARC headers) keep their own spelling.
- for people (CLI text, text/markdown/html reports, e-mail and chat messages, web
  pages): `human`, '2026-12-02 11:10 +05:00', to the minute in the reader's time zone
  with its UTC offset on every time, the same shape in every language. `zone_label`
  names the zone once where a page or report says which it uses.
Log lines (the daemon's, the workers') are machine output: `LogFormatter`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

Zone = str | tzinfo


def utc_iso(moment: datetime) -> str:
    """RFC 3339 with a Z, for machines: '2025-12-11T09:30:00.123456Z' (six fraction
    digits even when they are zeros)."""
    return _utc(moment).isoformat(timespec="microseconds") + "Z"


class LogFormatter(logging.Formatter):
    """A log line's time as every machine output writes it (`utc_iso`), not the
    host's local time without a zone."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_iso(datetime.fromtimestamp(record.created, UTC))


def html_datetime(moment: datetime) -> str:
    """A `<time datetime>` value: '2025-12-11T09:30:00Z'. HTML takes at most three
    fraction digits, so this one keeps whole seconds (next to a `human` text)."""
    return _utc(moment).isoformat(timespec="seconds") + "Z"


def human(moment: datetime, zone: Zone, seconds: bool = False) -> str:
    """'2026-12-02 11:10 +05:00': a moment for people, in `zone` (an IANA name or a
    tzinfo), to the minute (`seconds`: '11:10:42', where checks a minute apart must be
    told apart: the check ledger), with the UTC offset it had then."""
    local = _aware(moment).astimezone(_zone(zone))
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {offset(local.utcoffset())}"


def human_day(moment: datetime, zone: Zone) -> str:
    """'2026-12-02': the day a moment falls on in `zone`."""
    return f"{_aware(moment).astimezone(_zone(zone)):%Y-%m-%d}"


def zone_label(zone: Zone, at: datetime | None = None) -> str:
    """'Asia/Almaty (UTC+05:00)': the zone, named once per page or report, with its
    offset at `at` (default: now)."""
    place = _zone(zone)
    when = _aware(at) if at is not None else datetime.now(UTC)
    name = zone if isinstance(zone, str) else str(place)
    return f"{name} (UTC{offset(when.astimezone(place).utcoffset())})"


def offset(delta: timedelta | None) -> str:
    """'+05:00', '-04:00', '+00:00' (Python 3.11 has no %:z)."""
    minutes = round((delta or timedelta()).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return _aware(moment).astimezone(UTC).replace(tzinfo=None)


def _zone(zone: Zone) -> tzinfo:
    return _named(zone) if isinstance(zone, str) else zone


@cache
def _named(name: str) -> ZoneInfo:
    return ZoneInfo(name)
