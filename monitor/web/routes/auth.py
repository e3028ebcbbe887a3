"""Signing in and out, and the one-time link that makes the first admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from monitor.errors import UsageError
from monitor.web.accounts.invites import accept_invite, invite_valid
from monitor.web.accounts.throttle import forget_failures, record_failure, throttled
from monitor.web.accounts.users import check_password, end_sessions
from monitor.web.app import safe_next
from monitor.web.auth import Public, Viewer, sign_in, sign_out
from monitor.web.context import web
from monitor.web.templating import gettext, render


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def routes(app: FastAPI) -> None:
    @app.get("/login", name="login", include_in_schema=False)
    def login_page(request: Request, user: Public, next: str = "/") -> Response:
        if user is not None:
            return RedirectResponse(safe_next(next), 303)
        return render(request, "login.html", next=safe_next(next), error=None, name="")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, _: Public, name: Annotated[str, Form(max_length=200)],
                    password: Annotated[str, Form(max_length=2048)],
                    next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
        engine = web(request).engine
        address = client_address(request)
        if throttled(engine, name, address):
            return render(request, "login.html", status=429, next=safe_next(next), name=name,
                          error=gettext("Too many failed attempts. Wait 15 minutes and try "
                                        "again."), headers={"Retry-After": "900"})
        user = check_password(engine, name, password)
        if user is None:
            record_failure(engine, name, address)
            return render(request, "login.html", status=401, next=safe_next(next), name=name,
                          error=gettext("Wrong name or password."))
        forget_failures(engine, name)
        sign_in(request, user)
        return RedirectResponse(safe_next(next), 303)

    @app.post("/logout", name="logout", include_in_schema=False)
    def logout(request: Request, user: Viewer) -> Response:
        # Every session of the account ends, not only this cookie: a copy of it (another
        # device, a stolen cookie) must not stay signed in for its remaining days.
        end_sessions(web(request).engine, user.id)
        sign_out(request)
        return RedirectResponse(app.url_path_for("login"), 303)

    @app.get("/setup/{secret}", name="setup", include_in_schema=False)
    def setup_page(request: Request, _: Public, secret: str) -> Response:
        if not invite_valid(web(request).engine, secret):
            return render(request, "error.html", status=404, code=404,
                          message=gettext("This link has expired or was used already."))
        return render(request, "setup.html", secret=secret, error=None, name="")

    @app.post("/setup/{secret}", include_in_schema=False)
    def setup(request: Request, _: Public, secret: str,
                    name: Annotated[str, Form(max_length=200)],
                    password: Annotated[str, Form(max_length=2048)],
                    again: Annotated[str, Form(max_length=2048)]) -> Response:
        engine = web(request).engine
        if password != again:
            return render(request, "setup.html", status=400, secret=secret, name=name,
                          error=gettext("The two passwords differ."))
        try:
            user = accept_invite(engine, secret, name, password)
        except UsageError as exc:
            return render(request, "setup.html", status=400, secret=secret, name=name,
                          error=str(exc))
        sign_in(request, user)
        return RedirectResponse("/", 303)
