"""Server-rendered pages: Jinja2 with autoescaping everywhere, gettext from the `web`
catalogs in the reader's language (monitor.web.speech), and moments in the reader's
timezone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.moments import html_datetime
from monitor.web import labels
from monitor.web.csrf import csrf_token
from monitor.web.language import reader_of
from monitor.web.speech import (
    DOMAIN,
    current_reader,
    gettext,
    ngettext,
    speak,
    stop,
    translated,
    translated_plural,
)

__all__ = ["DOMAIN", "env", "gettext", "ngettext", "render", "speak_to"]


def speak_to(request: Request) -> None:
    """From here on, this request's text is in its reader's language and timezone.
    The auth dependencies call it, so a route's own messages are translated too."""
    speak(reader_of(request))


env = Environment(
    loader=PackageLoader("monitor.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# Newstyle: Jinja fills the %(name)s places itself (escaping the values), so the
# callables hand it the translated text untouched.
env.install_gettext_callables(translated, translated_plural,  # type: ignore[attr-defined]
                              newstyle=True)


def _moment(value: datetime | None) -> str:
    return current_reader().moment(value) if value is not None else "—"


def _iso(value: datetime | None) -> str:
    return html_datetime(value) if value is not None else ""


env.filters["moment"] = _moment
env.filters["iso"] = _iso
env.filters["named"] = labels.named
env.globals["names"] = labels.names


def render(request: Request, template: str, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    reader = reader_of(request)
    token = speak(reader)
    try:
        body = env.get_template(template).render(
            request=request, user=getattr(request.state, "user", None), reader=reader,
            csrf=csrf_token(request), lang=reader.language, **context)
    finally:
        stop(token)
    return HTMLResponse(body, status_code=status, headers=headers)
