"""Moments as text. The store keeps naive datetimes in UTC; machines read them as
RFC 3339 with a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    """RFC 3339 with a Z, for machines: '2025-12-11T09:30:00.123456Z'. A naive
    moment is taken as UTC (as the store keeps them); an aware one is converted."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"
