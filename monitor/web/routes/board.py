"""The board: every source at a glance (the first page after signing in)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from monitor.store.queries import list_sources
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.templating import render


def routes(app: FastAPI) -> None:
    @app.get("/", name="board", include_in_schema=False)
    async def board(request: Request, user: Viewer) -> Response:
        rows = list_sources(web(request).engine)
        return render(request, "board.html", sources=rows)
