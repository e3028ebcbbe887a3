"""The report and version diffs as one self-contained HTML page: inline CSS,
no scripts, nothing loaded from elsewhere, every piece of page text escaped
(Jinja2 autoescape; the hunks come escaped from `render.hunk_html`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from monitor.changes.titles import label, record_label
from monitor.report.escape import link_url, printable
from monitor.report.model import Report, VersionDiff, utc_text
from monitor.report.render import CSS, change_html
from monitor.report.text import count_line, last_stored, report_title


def _finalize(value: Any) -> Any:
    """Control characters out of every plain string a template prints."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


_ENV = Environment(
    loader=PackageLoader("monitor.report", "templates"), autoescape=True,
    undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters["utc"] = utc_text
_ENV.filters["link"] = link_url


def report_html(report: Report) -> str:
    return _ENV.get_template("report.html").render(
        title=report_title(report), report=report, counts=count_line(report.changes),
        hunks=[change_html(c.hunks) for c in report.changes], css=Markup(CSS),
        labels=[record_label(c) for c in report.changes],
        last_stored=[last_stored(c) for c in report.changes],
    )


def diff_html(diff: VersionDiff) -> str:
    return _ENV.get_template("diff.html").render(
        title=label(diff.title, diff.source), diff=diff, hunks=change_html(diff.hunks),
        css=Markup(CSS),
    )
