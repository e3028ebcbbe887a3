"""A version's raw capture: the page as it was fetched, kept as evidence.

`.../capture` is an app page that shows it in `<iframe sandbox>`; `.../raw` sends the
bytes under CAPTURE_POLICY, a CSP sandbox with no script and a unique origin, so
whatever the captured page holds never runs, and never runs as the app. A PDF or a
DOCX is a download, never shown.

A version's screenshot (a PNG the browser made of the page, monitor.screenshots) is
shown on the capture page as an image from `.../screenshot.png`, served only when its
bytes are a PNG, under a policy that lets nothing in it load or run.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from monitor.screenshots import MEDIA_TYPE, is_png, version_ref
from monitor.store.rows import VersionRow
from monitor.store.schema import events
from monitor.store.snapshots import get_blob
from monitor.untrusted import one_line
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.lookups import source_named, stored_version, version_number
from monitor.web.rawtype import ServedAs, served_as
from monitor.web.security import CAPTURE_POLICY, SCREENSHOT_POLICY
from monitor.web.templating import gettext, render


def routes(app: FastAPI) -> None:
    @app.get("/sources/{name}/versions/{number}/capture", name="capture",
             include_in_schema=False)
    def capture(request: Request, user: Viewer, name: str, number: str) -> Response:
        source = source_named(request, name)
        version = stored_version(request, source, version_number(number, "version"))
        heading = one_line(version.title or source.title or source.name, 300)
        with web(request).engine.connect() as conn:
            shot = version_ref(conn, source.stream_id, version.document_version)
        if not version.raw_hash:
            return render(request, "capture.html", status=200 if shot else 404, source=source,
                          version=version, heading=heading, missing=_missing(version),
                          served=None, size=0, shot=shot)
        content, served = _raw(request, version)
        return render(request, "capture.html", source=source, version=version, served=served,
                      size=len(content), heading=heading, missing=None, shot=shot)

    @app.get("/sources/{name}/versions/{number}/screenshot.png", name="screenshot",
             include_in_schema=False)
    def screenshot(request: Request, user: Viewer, name: str, number: str) -> Response:
        source = source_named(request, name)
        version = stored_version(request, source, version_number(number, "version"))
        with web(request).engine.connect() as conn:
            shot = version_ref(conn, source.stream_id, version.document_version)
            png = get_blob(conn, shot.sha256) if shot else b""
        if shot is None:
            raise HTTPException(404, gettext("Version %(number)s has no screenshot.",
                                              number=version.document_version))
        if not is_png(png):  # page-derived bytes: an image/png label must be true
            raise HTTPException(404, gettext("The screenshot stored for version %(number)s "
                                             "is not a PNG image, so it is not served.",
                                             number=version.document_version))
        return Response(png, headers={"content-type": MEDIA_TYPE,
                                      "content-security-policy": SCREENSHOT_POLICY,
                                      "x-content-type-options": "nosniff"})

    @app.get("/sources/{name}/versions/{number}/raw", name="raw", include_in_schema=False)
    def raw(request: Request, user: Viewer, name: str, number: str) -> Response:
        source = source_named(request, name)
        version = stored_version(request, source, version_number(number, "version"))
        if not version.raw_hash:
            raise HTTPException(404, _missing(version))
        content, served = _raw(request, version)
        headers = {"content-type": served.media_type,
                   "content-security-policy": CAPTURE_POLICY,
                   "x-frame-options": "SAMEORIGIN",
                   "x-content-type-options": "nosniff"}
        if served.download:
            headers["content-disposition"] = _attachment(source.name, version, served)
        return Response(content, headers=headers)  # no media_type: Starlette would add a charset


def _missing(version: VersionRow) -> str:
    why = (gettext("it was imported as a baseline from its text")
           if version.origin == "baseline" else
           gettext("raw captures were not kept then (keep_raw in monitor.toml)"))
    return gettext("Version %(number)s has no raw capture: %(why)s.",
                   number=version.document_version, why=why)


def _raw(request: Request, version: VersionRow) -> tuple[bytes, ServedAs]:
    if not version.raw_hash:  # the callers answered this already
        raise HTTPException(404, _missing(version))
    with web(request).engine.connect() as conn:
        content = get_blob(conn, version.raw_hash)
        content_type = conn.execute(select(events.c.data["content_type"].as_string())
                                    .where(events.c.position == version.event_position)).scalar()
    return content, served_as(content_type or "", content)


def _attachment(name: str, version: VersionRow, served: ServedAs) -> str:
    """A file name in plain ASCII, and the source's own name (any alphabet) per RFC 6266."""
    number, extension = version.document_version, served.extension
    return (f'attachment; filename="version-{number}.{extension}"; '
            f"filename*=UTF-8''{quote(name, safe='')}-v{number}.{extension}")
