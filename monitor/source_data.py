"""A watched source as JSON-ready data: what `monitor sources --format json` prints and
the web app's API answers, made in one place so the two cannot drift apart.

Moments stay datetimes (naive UTC); each caller writes them as RFC 3339 with a Z.
Page text (the title, a failure's message) is carried as found; whoever shows it
escapes it."""

from __future__ import annotations

from typing import Any

from monitor.store.rows import SourceRow
from monitor.tags import tags_of
from monitor.validation import mask_problems, parse_interval


def source_data(row: SourceRow) -> dict[str, Any]:
    """One row of the sources projection, with what keeps it from being checked."""
    return {
        "name": row.name, "url": row.url, "kind": row.kind, "state": row.state,
        "interval_seconds": row.interval_seconds, "language": row.language,
        "selector": row.selector, "ignore": row.ignore, "volatile": row.volatile,
        "follow": row.follow, "translation_of": row.translation_of,
        "versions": row.document_version, "content_hash": row.content_hash,
        "title": row.title, "published": row.published, "failures": row.failures,
        "last_failure": row.last_failure, "last_change_at": row.last_change_at,
        "registered_at": row.registered_at, "settings_problem": settings_problem(row),
        "tags": list(tags_of(row.options)),
        "render": bool((row.options or {}).get("render")),
        "screenshot": bool((row.options or {}).get("screenshot")),
    }


def settings_problem(row: SourceRow) -> str | None:
    """What in a source's stored settings no check can use (a selector or interval
    recorded before they were checked): every check of it ends in `error` and records
    nothing, so this is the only place it shows."""
    try:
        parse_interval(row.interval_seconds)
    except ValueError as exc:
        return f"interval: {exc}"
    problems = mask_problems(row.selector, row.ignore or ())
    return f"{problems[0][0]}: {problems[0][1]}" if problems else None
