"""The report and version diffs as JSON, for scripts.

`monitor report --format json` prints one object:

    {
      "generated_at": "2025-12-11T10:00:00.000000Z",   # RFC 3339, UTC
      "since": "2025-12-04T10:00:00.000000Z" | null,   # the window, since inclusive,
      "until": "2025-12-11T10:00:00.000000Z" | null,   #   until exclusive
      "source_glob": "mfa-*" | null,
      "min_significance": "low" | "medium" | "high" | null,
      "changes": [ … ]                                 # oldest first
    }

Each entry of "changes" is a change in the one shape of
monitor/schemas/change.schema.json, made by monitor.changes.data.change_data: the
same dict a webhook carries as its "data" for that change.

`monitor diff --format json` prints {"title", "source", "url", "from_version",
"to_version", "from_captured_at", "to_captured_at", "significance", "classes",
"summary", "hunks"}: version numbers, and hunks in the schema's hunk shape.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.changes.data import change_data, hunk_data
from monitor.moments import utc_iso
from monitor.report.model import Report, VersionDiff


def report_json(report: Report) -> str:
    return _dumps(report_dict(report))


def diff_json(diff: VersionDiff) -> str:
    return _dumps(diff_dict(diff))


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "generated_at": utc_iso(report.generated_at),
        "since": _iso_or_none(report.since),
        "until": _iso_or_none(report.until),
        "source_glob": report.source_glob,
        "min_significance": report.min_significance,
        "changes": [change_data(c, report.public_url) for c in report.changes],
    }


def diff_dict(diff: VersionDiff) -> dict[str, Any]:
    return {
        "title": diff.title,
        "source": diff.source,
        "url": diff.url,
        "from_version": diff.from_version,
        "to_version": diff.to_version,
        "from_captured_at": utc_iso(diff.from_captured_at),
        "to_captured_at": utc_iso(diff.to_captured_at),
        "significance": diff.significance,
        "classes": list(diff.classes),
        "summary": diff.summary,
        "hunks": [hunk_data(h) for h in diff.hunks],
    }


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else utc_iso(moment)


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
