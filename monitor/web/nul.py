"""The one character no text of this app may hold: PostgreSQL refuses NUL (0x00) in
any string, so a NUL in a path, a query or a form would end as a server error, with a
traceback in the log, wherever it reached the store (a source's name, a login name,
before any sign-in). No name, word, URL or label holds one: such a request is refused
with a one-line 400 before a route reads it."""

from __future__ import annotations

from fastapi import HTTPException, Request

from monitor.web.csrf import SAFE_METHODS, is_form
from monitor.web.speech import gettext

NUL = "\x00"


async def refuse_nul(request: Request) -> None:
    values = [str(v) for v in request.path_params.values()]
    values += [v for _, v in request.query_params.multi_items()]
    if request.method not in SAFE_METHODS and is_form(request):
        form = await request.form()  # Starlette keeps it: the endpoint reads it again
        values += [v for _, v in form.multi_items() if isinstance(v, str)]
    if any(NUL in value for value in values):
        raise HTTPException(400, gettext("the request holds a NUL character (0x00), which "
                                         "no name or text here may hold"))
