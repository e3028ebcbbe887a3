"""The document page (its timeline, versions, changes and evidence) and the stored
text of one version."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from monitor.alerts import wording
from monitor.report.escape import link_url
from monitor.screenshots import version_ref, versions_with_screenshots
from monitor.store.snapshots import get_text
from monitor.untrusted import one_line, printable
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.history import read_history, said
from monitor.web.language import reader_of
from monitor.web.lookups import source_named, stored_version, version_number
from monitor.web.templating import render
from monitor.web.timeline import draw, short_moment, span_words


def routes(app: FastAPI) -> None:
    @app.get("/sources/{name}", name="document", include_in_schema=False)
    def document(request: Request, user: Viewer, name: str,
                       before: Annotated[str | None, Query(max_length=40)] = None) -> Response:
        source = source_named(request, name)
        older_than = version_number(before, "before") if before else None
        context, reader = web(request), reader_of(request)
        history = read_history(context.engine, source, context.store.clock(), reader,
                               older_than)
        shots = versions_with_screenshots(context.engine, source.stream_id)
        return render(request, "document.html", source=source, history=history, shots=shots,
                      heading=one_line(source.title or source.name, 300),
                      link=link_url(source.url), draw=draw, span_words=span_words,
                      said=said, one_line=one_line, linkable=link_url,
                      short=lambda moment: short_moment(moment, reader),
                      class_name=lambda kind: wording.kind_name(kind, reader))

    @app.get("/sources/{name}/versions/{number}", name="version_text", include_in_schema=False)
    def version_text(request: Request, user: Viewer, name: str, number: str) -> Response:
        source = source_named(request, name)
        version = stored_version(request, source, version_number(number, "version"))
        with web(request).engine.connect() as conn:
            text = get_text(conn, version.content_hash)
            shot = version_ref(conn, source.stream_id, version.document_version)
        return render(request, "version.html", source=source, version=version, shot=shot,
                      heading=one_line(version.title or source.title or source.name, 300),
                      text=printable(text), link=link_url(version.url or source.url))
