"""Durations as people write them in monitor.toml and on the command line: 90s, 15m, 1h, 1d."""

from __future__ import annotations

UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def short_duration(seconds: object) -> str:
    if seconds is None:
        return "—"
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return str(seconds)  # a record written before intervals were checked
    if seconds != int(seconds) or seconds <= 0:
        return f"{seconds:g}s"
    whole = int(seconds)
    for unit, size in UNITS:
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"
