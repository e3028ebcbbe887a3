"""The diff between any two stored versions of a document, inline or side by side.

`/sources/{name}/diff?from=N&to=M` is the link every alert already sends (see
monitor.changes.data); without `from` and `to` it shows the latest change. The diff
is the project's own (monitor.diff: paragraphs aligned, words compared, numbers whole).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from monitor.alerts import wording
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.report.escape import link_url
from monitor.store.schema import versions
from monitor.store.snapshots import get_text
from monitor.untrusted import one_line
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.diffview import layout
from monitor.web.language import reader_of
from monitor.web.lookups import missing_version, source_named, version_number
from monitor.web.templating import gettext, render
from monitor.web.timeline import short_moment

VIEWS = ("inline", "side")


def routes(app: FastAPI) -> None:
    @app.get("/sources/{name}/diff", name="diff", include_in_schema=False)
    async def diff(request: Request, user: Viewer, name: str,
                   start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                   to: Annotated[str | None, Query(max_length=40)] = None,
                   view: Annotated[str, Query(max_length=20)] = "inline") -> Response:
        source = source_named(request, name)
        if view not in VIEWS:
            raise HTTPException(400, gettext("view: %(value)s is neither inline nor side.",
                                             value=view))
        stored = _versions(request, source.stream_id)
        if not stored:
            raise HTTPException(404, missing_version(source, 1))
        new = version_number(to, "to") if to else max(stored)
        old = version_number(start, "from") if start else new - 1
        asked = (new, old) if start else (new,)  # by default `from` is 0 for a first version
        for number in asked:
            if number not in stored:
                raise HTTPException(404, missing_version(source, number))
        if old > new:
            raise HTTPException(400, gettext("from (%(old)s) comes after to (%(new)s): give the "
                                             "older version first.", old=old, new=new))
        reader = reader_of(request)
        page: dict[str, Any] = {"source": source, "versions": stored, "old": old, "new": new,
                                "short": lambda moment: short_moment(moment, reader),
                                "view": view, "heading": one_line(source.title or source.name,
                                                                  300),
                                "link": link_url(stored[new].url or source.url)}
        if old == 0:  # a first version and nothing before it: the pickers, and a word
            return render(request, "diff.html", blocks=None, summary="", significance="",
                          **page)
        with web(request).engine.connect() as conn:
            before, after = (Document.from_canonical(get_text(conn, stored[n].content_hash))
                             for n in (old, new))
        change = diff_documents(before, after)
        summary = change.summary() if reader.language == "en" else \
            wording.change_summary(change.hunks, reader)
        return render(request, "diff.html", blocks=layout(before, after, change, reader),
                      summary=summary if change.hunks else "",
                      significance=change.significance, **page)


def _versions(request: Request, stream_id: str) -> dict[int, Any]:
    query = (select(versions.c.document_version, versions.c.captured_at, versions.c.title,
                    versions.c.content_hash, versions.c.url)
             .where(versions.c.stream_id == stream_id).order_by(versions.c.document_version))
    with web(request).engine.connect() as conn:
        return {row.document_version: row for row in conn.execute(query)}
