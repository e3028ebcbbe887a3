"""The JSON API under /api/v1 (monitor/web/api/, one module per resource) and its
OpenAPI document at /openapi.json, which, like every page, answers only a signed-in
user or a token."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from monitor.web.api import install
from monitor.web.api.openapi import with_change_schema
from monitor.web.auth import Viewer

DESCRIPTION = """\
What the monitor recorded, as JSON: sources, versions and their texts, changes, diffs
between any two versions, the event log, alert deliveries and search.

**Authentication:** `Authorization: Bearer TOKEN`, with a token made by
`monitor tokens create --user NAME`. It acts as its user: a viewer reads, an editor also
adds, changes and removes sources. No token, or an unknown one: 401. Too low a role: 403.

**Lists** answer `{"items": [...], "next": …}`: pass `next` back (as `cursor`, or as
`after` for events) for the following page; it is null on the last one.

**Errors** answer `{"detail": "one line"}`.

**Changes** have the one shape webhooks and `monitor report --format json` carry
(the `Change` schema below, shipped as monitor/schemas/change.schema.json). Text that
came from a page (titles, paragraphs, passages) is untrusted: escape it wherever you
show it.
"""


def routes(app: FastAPI) -> None:
    install(app)
    app.description = DESCRIPTION
    app.openapi = with_change_schema(app.openapi)  # type: ignore[method-assign]

    @app.get("/openapi.json", name="openapi", include_in_schema=False)
    async def openapi(_: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())
