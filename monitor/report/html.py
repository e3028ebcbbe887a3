"""The report and version diffs as one self-contained HTML page: inline CSS,
no scripts, nothing loaded from elsewhere, every piece of page text escaped
(Jinja2 autoescape; the hunks come escaped from `render.hunk_html`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from monitor.alerts import wording
from monitor.changes.data import web_page
from monitor.changes.record import CHANGED, PUBLISHED, REMOVED, ChangeRecord
from monitor.changes.titles import label, record_label
from monitor.i18n import DEFAULT_READER, Reader
from monitor.report.escape import link_url, printable
from monitor.report.model import Report, VersionDiff
from monitor.report.render import CSS, change_html
from monitor.report.text import count_line


def _finalize(value: Any) -> Any:
    """Control characters out of every plain string a template prints."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


_ENV = Environment(
    loader=PackageLoader("monitor.report", "templates"), autoescape=True,
    undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters["link"] = link_url


def report_html(report: Report, reader: Reader = DEFAULT_READER) -> str:
    """The report as a page in the reader's language (`lang`, headings, summaries)
    and timezone; the hunks' labels stay in English."""
    return _ENV.get_template("report.html").render(
        **_report_context(report, reader, styled=True), css=Markup(CSS))


def report_body_html(report: Report, reader: Reader = DEFAULT_READER) -> Markup:
    """The same report without its page, for the web app's report page: no inline
    styles (the app's stylesheet has the same classes). Escaped here, like the page."""
    return Markup(_ENV.get_template("_report.html").render(
        **_report_context(report, reader, styled=False)))


def _report_context(report: Report, r: Reader, styled: bool) -> dict[str, Any]:
    english = r.language == "en"
    return {
        "title": _title(report, r), "report": report,
        "counts": count_line(report.changes) if english else _counts(report, r),
        "hunks": [change_html(c.hunks, styled) for c in report.changes],
        "labels": [wording.heading(record_label(c), r) for c in report.changes],
        "last_stored": [_last_stored(c, r) for c in report.changes],
        "summaries": [_summary(c, r) for c in report.changes],
        "kinds": [_kind(c.kind, r) for c in report.changes],
        "levels": [wording.level(c.significance, r) for c in report.changes],
        "pages": [web_page(c, report.public_url) for c in report.changes],
        "lang": r.language, "_": r.gettext, "when": r.moment,
    }


def diff_html(diff: VersionDiff, reader: Reader = DEFAULT_READER) -> str:
    """In English, with times in the reader's timezone."""
    return _ENV.get_template("diff.html").render(
        title=label(diff.title, diff.source), diff=diff, hunks=change_html(diff.hunks),
        css=Markup(CSS), lang="en", when=reader.moment,
    )


def _title(report: Report, r: Reader) -> str:
    start = r.moment(report.since) if report.since else r.gettext("the beginning")
    end = r.moment(report.until) if report.until else r.gettext("now")
    return r.gettext("Changes from {start} to {end}").format(start=start, end=end)


def _counts(report: Report, r: Reader) -> str:
    n, docs = len(report.changes), len({c.source for c in report.changes})
    if not n:
        return r.gettext("no change")
    return (r.ngettext("{n} change", "{n} changes", n).format(n=n) + " "
            + r.ngettext("in {n} document", "in {n} documents", docs).format(n=docs))


def _summary(change: ChangeRecord, r: Reader) -> str:
    if r.language == "en":
        return change.summary
    if change.kind == CHANGED:
        return wording.change_summary(change.hunks, r)
    if change.kind == PUBLISHED:
        return r.gettext("new document published")
    if change.kind == REMOVED and change.removal is not None:
        return r.gettext("removed: judged gone on {n} consecutive checks").format(
            n=change.removal.confirmations)
    return change.summary


def _kind(kind: str, r: Reader) -> str:
    names = {CHANGED: r.gettext("changed"), PUBLISHED: r.gettext("published"),
             REMOVED: r.gettext("removed")}
    return names.get(kind, kind)


def _last_stored(change: ChangeRecord, r: Reader) -> str:
    """For a removal: 'last stored: version 3, captured …, dated 2025-12-11'."""
    last = change.from_version
    if change.removal is None or last is None:
        return ""
    line = r.gettext("version {number}, captured {moment}").format(
        number=last.number, moment=r.moment(last.captured_at))
    if last.published:
        line += ", " + r.gettext("dated {date}").format(date=printable(last.published))
    return f"{r.gettext('last stored')}: {line}"
