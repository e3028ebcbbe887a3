"""The report page: `monitor report` in the browser, with the same filters, and the same
report to download as JSON, markdown, Atom or one HTML file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from monitor.errors import UsageError
from monitor.report.atom import report_atom
from monitor.report.filters import SIGNIFICANCE_LEVELS, parse_filter
from monitor.report.formats import render_report
from monitor.report.gather import gather_report
from monitor.report.html import report_body_html
from monitor.report.model import Report
from monitor.web.auth import Viewer
from monitor.web.context import site_url, web
from monitor.web.language import reader_of
from monitor.web.templating import render

DEFAULT_SINCE = "7d"  # as `monitor report`
PAGE_CHANGES = 300  # the newest shown on the page; the downloads hold them all
# The downloadable report: format, media type, file name.
DOWNLOADS = {
    "json": ("json", "application/json", "report.json"),
    "md": ("markdown", "text/markdown; charset=utf-8", "report.md"),
    "atom": ("atom", "application/atom+xml; charset=utf-8", "report.atom"),
    "html": ("html", "text/html; charset=utf-8", "report.html"),
}
# The HTML file is a page of its own: its inline stylesheet, nothing else.
HTML_FILE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
Word = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class ReportForm:
    """The report's filters as typed, in `monitor report`'s words."""

    since: str = DEFAULT_SINCE
    until: str = ""
    source: str = ""
    min_significance: str = ""

    def query(self) -> str:
        return urlencode(asdict(self))


def routes(app: FastAPI) -> None:
    @app.get("/report", name="report", include_in_schema=False)
    def report_page(request: Request, user: Viewer, since: Word = DEFAULT_SINCE,
                    until: Word = "", source: Word = "", min_significance: Word = "") -> Response:
        form = ReportForm(since, until, source, min_significance)
        try:
            report = _gather(request, form, latest=PAGE_CHANGES + 1)
        except UsageError as exc:
            return _form_again(request, form, str(exc))
        more = len(report.changes) > PAGE_CHANGES
        if more:  # the oldest goes: it was read only to know there are more
            report = replace(report, changes=report.changes[1:])
        body = report_body_html(report, reader_of(request))
        return render(request, "report.html", form=form, error=None, body=body, more=more,
                      shown=PAGE_CHANGES, levels=SIGNIFICANCE_LEVELS,
                      downloads={kind: f"/report.{kind}?{form.query()}" for kind in DOWNLOADS})

    def download(request: Request, kind: str, form: ReportForm) -> Response:
        fmt, media_type, filename = DOWNLOADS[kind]
        try:
            report = _gather(request, form)
        except UsageError as exc:
            return _form_again(request, form, str(exc))
        if fmt == "atom":
            site = site_url(request)
            body = report_atom(report, self_url=f"{site}/report.atom?{form.query()}", pages=site,
                               reader=reader_of(request))
        else:
            body = render_report(report, fmt, reader=reader_of(request))
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if fmt == "html":
            headers["Content-Security-Policy"] = HTML_FILE_POLICY
        return Response(body, media_type=media_type, headers=headers)

    def downloads(kind: str) -> Callable[..., Response]:
        def endpoint(request: Request, user: Viewer, since: Word = DEFAULT_SINCE,
                     until: Word = "", source: Word = "", min_significance: Word = "") -> Response:
            return download(request, kind, ReportForm(since, until, source, min_significance))

        return endpoint

    # One route per format: each a plain path the route-table test can walk.
    for kind in DOWNLOADS:
        app.add_api_route(f"/report.{kind}", downloads(kind), methods=["GET"],
                          name=f"report_{kind}", include_in_schema=False)


def _gather(request: Request, form: ReportForm, latest: int | None = None) -> Report:
    now = datetime.now(UTC).replace(tzinfo=None)
    wanted = parse_filter(form.since or None, form.until or None, form.source or None,
                          form.min_significance or None, now)
    return gather_report(web(request).engine, wanted, generated_at=now,
                         public_url=site_url(request), latest=latest)


def _form_again(request: Request, form: ReportForm, error: str) -> Response:
    return render(request, "report.html", status=400, form=form, error=error, body=None,
                  more=False, shown=PAGE_CHANGES, downloads={}, levels=SIGNIFICANCE_LEVELS)
