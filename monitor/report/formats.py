"""The output formats by name, as the CLI offers them."""

from __future__ import annotations

from monitor.i18n import DEFAULT_READER, Reader
from monitor.report.atom import report_atom
from monitor.report.html import diff_html, report_html
from monitor.report.jsondoc import diff_json, report_json
from monitor.report.markdown import diff_markdown, report_markdown
from monitor.report.model import Report, VersionDiff
from monitor.report.text import diff_text, report_text

REPORT_FORMATS = ("text", "markdown", "html", "json", "atom")
DIFF_FORMATS = ("text", "markdown", "html", "json")


def render_report(report: Report, fmt: str, color: bool = False,
                  reader: Reader = DEFAULT_READER) -> str:
    """`reader`: the timezone of the times people read (text, markdown, html, Atom's
    texts) and the language of the html format."""
    match fmt:
        case "text":
            return report_text(report, color, reader)
        case "markdown":
            return report_markdown(report, reader)
        case "html":
            return report_html(report, reader)
        case "json":
            return report_json(report)
        case "atom":
            return report_atom(report, reader=reader)
    raise ValueError(f"unknown report format {fmt!r}")


def render_diff(diff: VersionDiff, fmt: str, color: bool = False,
                reader: Reader = DEFAULT_READER) -> str:
    """`reader`: the timezone of the times (the words stay in English)."""
    match fmt:
        case "text":
            return diff_text(diff, color, reader)
        case "markdown":
            return diff_markdown(diff, reader)
        case "html":
            return diff_html(diff, reader)
        case "json":
            return diff_json(diff)
    raise ValueError(f"unknown diff format {fmt!r}")
