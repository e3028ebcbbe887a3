"""The report and version diffs as terminal text (ANSI colours when asked)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from monitor.changes.record import ChangeRecord
from monitor.changes.titles import label, record_label
from monitor.i18n import Reader
from monitor.report.escape import printable
from monitor.report.model import Report, VersionDiff
from monitor.report.render import change_text

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def report_text(report: Report, color: bool, reader: Reader) -> str:
    """`reader`: the timezone of the times (the words stay in English)."""
    lines = [_heading(report_title(report, reader), color),
             f"generated {reader.moment(report.generated_at)} · {count_line(report.changes)}"]
    for change in report.changes:
        lines += ["", _change_text(change, color, reader)]
    return "\n".join(lines) + "\n"


def diff_text(diff: VersionDiff, color: bool, reader: Reader) -> str:
    head = f"{diff.source}: version {diff.from_version} → {diff.to_version}"
    lines = [
        _heading(label(diff.title, diff.source), color),
        f"  {printable(head)}",
        f"  {printable(diff.url)}",
        f"  v{diff.from_version} captured {reader.moment(diff.from_captured_at)}, "
        f"v{diff.to_version} captured {reader.moment(diff.to_captured_at)}",
    ]
    if not diff.hunks:
        return "\n".join([*lines, "", "  no differences"]) + "\n"
    lines += [f"  [{diff.significance}] {printable(diff.summary)}", ""]
    return "\n".join(lines) + "\n" + _indent(change_text(diff.hunks, color)) + "\n"


def report_title(report: Report, reader: Reader) -> str:
    """'Changes from 2025-12-04 15:00 +05:00 to 2025-12-11 15:00 +05:00'."""
    start = f"from {reader.moment(report.since)}" if report.since else "from the beginning"
    end = f"to {reader.moment(report.until)}" if report.until else "until now"
    return f"Changes {start} {end}"


def count_line(changes: Sequence[ChangeRecord]) -> str:
    """'3 changes (1 high, 2 medium) in 2 sources' or 'no changes'."""
    if not changes:
        return "no changes"
    levels = Counter(c.significance for c in changes)
    by_level = ", ".join(f"{levels[k]} {k}" for k in ("high", "medium", "low", "none")
                         if levels[k])
    noun = "change" if len(changes) == 1 else "changes"
    sources = len({c.source for c in changes})
    where = "1 source" if sources == 1 else f"{sources} sources"
    return f"{len(changes)} {noun} ({by_level}) in {where}"


def _change_text(change: ChangeRecord, color: bool, reader: Reader) -> str:
    head = f"== {record_label(change)} · {change.kind} · {change.significance.upper()}"
    lines = [
        _heading(printable(head), color),
        f"   {reader.moment(change.detected_at)}  {printable(change.url)}",
        f"   {_versions(change)}{printable(change.summary)}",
    ]
    if last := last_stored(change, reader):
        lines.append(f"   {last}")
    lines.append(f"   event {change.event_id} (position {change.event_position})")
    if change.archive_url:
        lines.append(f"   archived at {printable(change.archive_url)}")
    if change.hunks:
        lines += ["", _indent(change_text(change.hunks, color))]
    return "\n".join(lines)


def _versions(change: ChangeRecord) -> str:
    if change.from_version and change.to_version:
        return f"v{change.from_version.number} → v{change.to_version.number}: "
    return ""


def last_stored(change: ChangeRecord, reader: Reader) -> str:
    """For a removal: 'last stored: v3, captured 2025-12-11 14:30 +05:00, dated 2025-12-11'."""
    last = change.from_version
    if change.removal is None or last is None:
        return ""
    dated = f", dated {printable(last.published)}" if last.published else ""
    return f"last stored: v{last.number}, captured {reader.moment(last.captured_at)}{dated}"


def _heading(text: str, color: bool) -> str:
    return f"{_BOLD}{text}{_RESET}" if color else text


def _indent(text: str, prefix: str = "   ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))
