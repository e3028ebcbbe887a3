"""Cross-site request forgery: every form carries the session's token, and a request
that changes something with a session cookie must send it back (form field `csrf` or
header `X-CSRF-Token`) from this app's own origin. API calls with a bearer token carry
no cookie, so a forged request has nothing to ride on."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from monitor.web.speech import gettext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf"
HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    """The session's token, made at first use."""
    token = request.session.get(FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return token


async def require_csrf(request: Request) -> None:
    """Raises 403 unless the request proves it comes from one of our own pages."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and _origin(origin) != _origin(str(request.base_url)):
        raise HTTPException(403, gettext("cross-origin request refused"))
    expected = request.session.get(FIELD)
    sent = request.headers.get(HEADER)
    if sent is None and _is_form(request):
        form = await request.form()  # Starlette keeps it: the endpoint reads it again
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, gettext("the form has expired or did not come from this "
                                         "site; reload the page and try again"))


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
