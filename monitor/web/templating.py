"""Server-rendered pages: Jinja2 with autoescaping everywhere, gettext from the `web`
catalogs in the reader's language, and moments in the reader's timezone."""

from __future__ import annotations

import contextvars
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.i18n import DEFAULT_READER, Reader, translations
from monitor.web.csrf import csrf_token
from monitor.web.language import reader_of

DOMAIN = "web"
_reader: contextvars.ContextVar[Reader] = contextvars.ContextVar("reader", default=DEFAULT_READER)


def _gettext(message: str, **values: Any) -> str:
    text = translations(_reader.get().language, DOMAIN).gettext(message)
    return text % values if values else text


def _ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = translations(_reader.get().language, DOMAIN).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def gettext(message: str, **values: Any) -> str:
    """For Python code that builds text for a page (flash messages, errors), in the
    language of the request's reader (set by the route's auth dependency)."""
    return _gettext(message, **values)


def speak_to(request: Request) -> None:
    """From here on, this request's text is in its reader's language and timezone.
    The auth dependencies call it, so a route's own messages are translated too."""
    _reader.set(reader_of(request))


env = Environment(
    loader=PackageLoader("monitor.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def _moment(value: datetime | None) -> str:
    return _reader.get().moment(value) if value is not None else "—"


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else ""


env.filters["moment"] = _moment
env.filters["iso"] = _iso


def render(request: Request, template: str, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    reader = reader_of(request)
    token = _reader.set(reader)
    try:
        body = env.get_template(template).render(
            request=request, user=getattr(request.state, "user", None), reader=reader,
            csrf=csrf_token(request), lang=reader.language, **context)
    finally:
        _reader.reset(token)
    return HTMLResponse(body, status_code=status, headers=headers)
