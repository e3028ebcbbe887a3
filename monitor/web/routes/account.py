"""One's own account: language and timezone, API tokens, password."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from monitor.errors import UsageError
from monitor.i18n import LANGUAGES, timezone_problem
from monitor.web.accounts.throttle import forget_failures, record_failure, throttled
from monitor.web.accounts.tokens import create_token, list_tokens, revoke_token
from monitor.web.accounts.users import User, check_password, find_user, set_password
from monitor.web.accounts.users import set_preferences as save_preferences
from monitor.web.auth import Viewer, sign_in
from monitor.web.context import web
from monitor.web.routes.auth import client_address
from monitor.web.templating import gettext, render

Field = Annotated[str, Form(max_length=2048)]
# Each language named in itself, as a reader looks for their own.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
SUGGESTED_ZONES = ("Asia/Almaty", "Asia/Qostanay", "Asia/Aqtobe", "Asia/Aqtau", "Asia/Atyrau",
                   "Asia/Oral", "Asia/Qyzylorda", "Asia/Bishkek", "Asia/Tashkent",
                   "Europe/Moscow", "Europe/Berlin", "Europe/London", "America/New_York", "UTC")


def routes(app: FastAPI) -> None:
    @app.get("/account", name="account", include_in_schema=False)
    def account_page(request: Request, user: Viewer, done: str = "") -> Response:
        return _page(request, user, done=done)

    @app.post("/account/preferences", include_in_schema=False)
    def preferences(request: Request, user: Viewer, language: Field = "",
                    timezone: Field = "") -> Response:
        language, timezone = language.strip(), timezone.strip()
        if language and language not in LANGUAGES:
            return _page(request, user, status=400, error=gettext(
                "%(value)s is not a language of this app: en, ru or kk.", value=repr(language)))
        if timezone and timezone_problem(timezone):
            return _page(request, user, status=400, error=gettext(
                "%(value)s is not a known IANA timezone (e.g. Asia/Almaty, Europe/Moscow, UTC)",
                value=repr(timezone)))
        save_preferences(web(request).engine, user.id, language or None, timezone or None)
        return RedirectResponse("/account?done=preferences", 303)

    @app.post("/account/tokens", include_in_schema=False)
    def new_token(request: Request, user: Viewer,
                  label: Annotated[str, Form(max_length=200)] = "") -> Response:
        token_id, token = create_token(web(request).engine, user.name, label.strip())
        return render(request, "account_token.html", token=token, token_id=token_id,
                      label=label.strip())

    @app.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
    def revoke(request: Request, user: Viewer, token_id: int) -> Response:
        try:
            revoke_token(web(request).engine, token_id, owner_id=user.id)
        except UsageError:
            return _page(request, user, status=404, error=gettext(
                "You have no live token with id %(id)s.", id=token_id))
        return RedirectResponse("/account?done=revoked#tokens", 303)

    @app.post("/account/password", include_in_schema=False)
    def password(request: Request, user: Viewer, current: Field, new: Field,
                 again: Field) -> Response:
        engine = web(request).engine
        address = client_address(request)
        if throttled(engine, user.name, address):
            return _page(request, user, status=429, error=gettext(
                "Too many failed attempts. Wait 15 minutes and try again."))
        if check_password(engine, user.name, current) is None:
            record_failure(engine, user.name, address)
            return _page(request, user, status=400, error=gettext(
                "The current password is wrong."))
        forget_failures(engine, user.name)
        if new != again:
            return _page(request, user, status=400, error=gettext(
                "The two new passwords differ."))
        try:
            set_password(engine, user.name, new)
        except UsageError as exc:
            return _page(request, user, status=400, error=str(exc))
        changed = find_user(engine, user.name)
        if changed is not None and getattr(request.state, "via", None) == "session":
            sign_in(request, changed)  # this session goes on; every other one has ended
        return RedirectResponse("/account?done=password", 303)


def _page(request: Request, user: User, status: int = 200, error: str | None = None,
          done: str = "") -> Response:
    """The account page; `done`: what was just done, for the page to say so."""
    tokens = list_tokens(web(request).engine, user.name)
    return render(request, "account.html", status=status, error=error, done=done,
                  tokens=tokens, languages=LANGUAGE_NAMES, zones=SUGGESTED_ZONES,
                  now=datetime.now(UTC).replace(tzinfo=None))
