"""The report and version diffs as JSON, for scripts.

`monitor report --format json` prints one object:

    {
      "generated_at": "2025-12-11T10:00:00.000000Z",   # RFC 3339, UTC
      "since": "2025-12-04T10:00:00.000000Z" | null,   # the window, since inclusive,
      "until": "2025-12-11T10:00:00.000000Z" | null,   #   until exclusive
      "source_glob": "mfa-*" | null,
      "min_significance": "low" | "medium" | "high" | null,
      "changes": [                                     # oldest first
        {
          "event_position": 42,                        # global position in the log
          "event_id": "3f2a…",                         # the event's stable id (hex)
          "kind": "changed" | "published" | "removed",
          "source": "mfa-2025-12-11-…",                # the source's name
          "url": "https://www.gov.kz/…",               # the new article's for "published"
          "detected_at": "2025-12-11T09:12:03.120000Z",
          "significance": "low" | "medium" | "high",
          "classes": ["number", "wording"],
          "summary": "1 number changed in paragraph 3",
          "from_version": 1 | null,                    # stored versions compared
          "to_version": 2 | null,
          "hunks": [                                   # empty unless kind is "changed"
            {
              "kind": "number",                        # monitor.classify.KINDS
              "significance": "high",
              "old_index": 2 | null,                   # 0-based paragraph index; null
              "new_index": 2 | null,                   #   for title/date and added/removed
              "old": "…whole old paragraph…",
              "new": "…whole new paragraph…",
              "classes": ["number"],
              "ops": [["equal", "The ", "The "], ["replace", "100", "200"], …]
            }
          ]
        }
      ]
    }

Each hunk is `monitor.diff.Hunk.to_dict()` plus "significance": joining the old
texts of its ops gives "old", joining the new texts gives "new".

`monitor diff --format json` prints {"source", "url", "from_version",
"to_version", "from_captured_at", "to_captured_at", "significance", "classes",
"summary", "hunks"} with the same hunk shape.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.diff import Hunk
from monitor.moments import utc_iso
from monitor.report.model import Report, ReportChange, VersionDiff


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
        "changes": [change_dict(c) for c in report.changes],
    }


def change_dict(change: ReportChange) -> dict[str, Any]:
    return {
        "event_position": change.event_position,
        "event_id": change.event_id,
        "kind": change.kind,
        "source": change.source,
        "url": change.url,
        "detected_at": utc_iso(change.detected_at),
        "significance": change.significance,
        "classes": list(change.classes),
        "summary": change.summary,
        "from_version": change.from_version,
        "to_version": change.to_version,
        "hunks": [hunk_dict(h) for h in change.hunks],
    }


def diff_dict(diff: VersionDiff) -> dict[str, Any]:
    return {
        "source": diff.source,
        "url": diff.url,
        "from_version": diff.from_version,
        "to_version": diff.to_version,
        "from_captured_at": utc_iso(diff.from_captured_at),
        "to_captured_at": utc_iso(diff.to_captured_at),
        "significance": diff.significance,
        "classes": list(diff.classes),
        "summary": diff.summary,
        "hunks": [hunk_dict(h) for h in diff.hunks],
    }


def hunk_dict(hunk: Hunk) -> dict[str, Any]:
    return {**hunk.to_dict(), "significance": hunk.significance}


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else utc_iso(moment)


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
