"""The search page: every stored version of every document (the API's is
monitor/web/api/search.py; both run monitor.search.query).

Searching reads the index and decodes a page of texts: tens of milliseconds, so the
route is a plain function (FastAPI runs it in its thread pool) and a search never
holds up the other requests."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from monitor.errors import UsageError
from monitor.search.query import MAX_OFFSET, SearchResult, search
from monitor.store.queries import get_source
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.templating import gettext, render

PER_PAGE = 20
LAST_PAGE = MAX_OFFSET // PER_PAGE + 1


def routes(app: FastAPI) -> None:
    @app.get("/search", name="search", include_in_schema=False)
    def search_page(request: Request, user: Viewer, q: str = "", source: str = "",
                    page: str = "1") -> Response:
        result: SearchResult | None = None
        error: str | None = None
        number = _page_number(page)
        if number is None:
            error = gettext("page: must be a whole number from 1 to %(most)d", most=LAST_PAGE)
        elif source and not _known(web(request).engine, source):
            error = gettext("No source is named %(name)s.", name=source)
        elif q.strip():
            try:
                result = search(web(request).engine, q, limit=PER_PAGE,
                                offset=(number - 1) * PER_PAGE, source=source or None)
            except UsageError as exc:  # the query says nothing searchable: in its words
                error = str(exc)
        return render(request, "search.html", status=400 if error else 200, q=q,
                      source=source, page=number or 1, result=result, error=error)


def _known(engine: Engine, source: str) -> bool:
    try:
        get_source(engine, source)
    except UsageError:
        return False
    return True


def _page_number(page: str) -> int | None:
    text = page.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    number = int(text)
    return number if 1 <= number <= LAST_PAGE else None
