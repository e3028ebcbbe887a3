"""The board: every source at a glance (the first page after signing in), filtered by
the query string; `?fragment=rows` gives only its counts and rows, which the board's
script fetches again when the log moves (monitor/web/live.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from monitor.sources import KINDS
from monitor.web.auth import Viewer
from monitor.web.board_data import PAGE_SIZE, board_page, known_tags
from monitor.web.board_filters import (
    SIGNIFICANCES,
    STATES,
    BadFilter,
    BoardFilter,
    not_one_of,
    read_filter,
)
from monitor.web.context import web
from monitor.web.templating import render

FRAGMENTS = ("rows",)


def routes(app: FastAPI) -> None:
    @app.get("/", name="board", include_in_schema=False)
    def board(request: Request, user: Viewer) -> Response:
        context = web(request)
        params = request.query_params
        fragment = params.get("fragment")
        menus: dict[str, Any] = {"states": STATES, "significances": SIGNIFICANCES,
                                 "kinds": sorted(KINDS), "page_size": PAGE_SIZE}
        try:
            if fragment is not None and fragment not in FRAGMENTS:
                raise BadFilter(not_one_of("fragment", fragment[:40], FRAGMENTS))
            wanted = read_filter(params, KINDS)
        except BadFilter as exc:
            return render(request, "board.html", status=422, error=str(exc),
                          wanted=BoardFilter(), board=None, tags=[], position=0, **menus)
        position = context.store.last_position()  # before the rows: a later move refreshes
        found = board_page(context.engine, wanted, context.store.clock())
        template = "board_rows.html" if fragment else "board.html"
        tags = [] if fragment else known_tags(context.engine, position)
        return render(request, template, error=None, wanted=wanted, board=found, tags=tags,
                      position=position, **menus)
