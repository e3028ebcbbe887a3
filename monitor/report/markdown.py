"""The report and version diffs as markdown, for pasting into tickets."""

from __future__ import annotations

from monitor.changes.record import ChangeRecord
from monitor.changes.titles import label, record_label
from monitor.i18n import Reader
from monitor.report.escape import escape_markdown, link_url
from monitor.report.model import Report, VersionDiff
from monitor.report.render import change_markdown
from monitor.report.text import count_line, last_stored, report_title


def report_markdown(report: Report, reader: Reader) -> str:
    """`reader`: the timezone of the times (the words stay in English)."""
    parts = [f"# {report_title(report, reader)}",
             f"Generated {reader.moment(report.generated_at)} · {count_line(report.changes)}"]
    parts += [_change_markdown(change, reader) for change in report.changes]
    return "\n\n".join(parts) + "\n"


def diff_markdown(diff: VersionDiff, reader: Reader) -> str:
    parts = [
        f"# {escape_markdown(label(diff.title, diff.source))}",
        _facts([
            ("Source", f"{escape_markdown(diff.source)}: version {diff.from_version} → "
                       f"{diff.to_version}"),
            ("URL", _url(diff.url)),
            (f"Version {diff.from_version}", f"captured {reader.moment(diff.from_captured_at)}"),
            (f"Version {diff.to_version}", f"captured {reader.moment(diff.to_captured_at)}"),
            ("Summary", _summary(diff.significance, diff.summary) if diff.hunks
             else "no differences"),
        ]),
    ]
    if diff.hunks:
        parts.append(change_markdown(diff.hunks))
    return "\n\n".join(parts) + "\n"


def _change_markdown(change: ChangeRecord, reader: Reader) -> str:
    facts = [("Source", escape_markdown(change.source)),
             ("Detected", reader.moment(change.detected_at)), ("URL", _url(change.url))]
    if change.from_version and change.to_version:
        facts.append(("Versions",
                      f"v{change.from_version.number} → v{change.to_version.number}"))
    if last := last_stored(change, reader):
        facts.append(("Last stored", escape_markdown(last.removeprefix("last stored: "))))
    facts += [("Summary", _summary(change.significance, change.summary)),
              ("Event", f"`{change.event_id}` (position {change.event_position})")]
    if change.archive_url:
        facts.append(("Archived", _url(change.archive_url)))
    head = (f"## {escape_markdown(record_label(change))} · {change.kind} · "
            f"{change.significance.upper()}")
    parts = [head, _facts(facts)]
    if change.hunks:
        parts.append(change_markdown(change.hunks))
    return "\n\n".join(parts)


def _facts(items: list[tuple[str, str]]) -> str:
    return "\n".join(f"- **{name}:** {value}" for name, value in items)


def _summary(significance: str, summary: str) -> str:
    return f"\\[{significance}\\] {escape_markdown(summary)}"


def _url(url: str) -> str:
    """An autolink (no escapes apply inside one), or escaped text if not linkable."""
    return f"<{url}>" if link_url(url) else escape_markdown(url)
