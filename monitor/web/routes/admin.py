"""The admin's pages: the people who may sign in, their roles, and the checkpoint key."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from monitor.errors import MonitorError, UsageError
from monitor.evidence.keys import load_signing_key
from monitor.evidence.settings import evidence_settings
from monitor.web.accounts.roles import ROLES
from monitor.web.accounts.tokens import live_token_counts
from monitor.web.accounts.users import add_user, list_users, remove_user, set_role
from monitor.web.auth import Admin
from monitor.web.context import web
from monitor.web.templating import render

Field = Annotated[str, Form(max_length=2048)]


def routes(app: FastAPI) -> None:
    @app.get("/admin/users", name="admin_users", include_in_schema=False)
    def users_page(request: Request, user: Admin, done: str = "") -> Response:
        return _users(request, done=done)

    @app.post("/admin/users", include_in_schema=False)
    def add(request: Request, user: Admin, name: Field, role: Field, password: Field) -> Response:
        try:
            add_user(web(request).engine, name, role, password)
        except UsageError as exc:
            return _users(request, status=400, error=str(exc), name=name, role=role)
        return RedirectResponse("/admin/users?done=added", 303)

    @app.post("/admin/users/{name}/remove", include_in_schema=False)
    def remove(request: Request, user: Admin, name: str) -> Response:
        try:
            remove_user(web(request).engine, name, keep_an_admin=True)
        except UsageError as exc:
            return _users(request, status=400, error=str(exc))
        return RedirectResponse("/admin/users?done=removed", 303)

    @app.post("/admin/users/{name}/role", include_in_schema=False)
    def change_role(request: Request, user: Admin, name: str, role: Field) -> Response:
        try:
            set_role(web(request).engine, name, role)
        except UsageError as exc:
            return _users(request, status=400, error=str(exc))
        return RedirectResponse("/admin/users?done=role", 303)

    @app.get("/admin/keys", name="admin_keys", include_in_schema=False)
    def keys_page(request: Request, user: Admin) -> Response:
        context = web(request)
        try:
            settings = evidence_settings(context.config, _database_url(request))
            public = load_signing_key(settings.key_file).public
        except MonitorError as exc:
            return render(request, "admin_keys.html", key=None, error=str(exc))
        return render(request, "admin_keys.html", key=public, error=None,
                      key_file=str(settings.key_file),
                      raw_base64=base64.b64encode(public.raw).decode("ascii"))


def _users(request: Request, status: int = 200, error: str | None = None,
           done: str = "", name: str = "", role: str = "viewer") -> Response:
    engine = web(request).engine
    return render(request, "admin_users.html", status=status, people=list_users(engine),
                  tokens=live_token_counts(engine), roles=ROLES, error=error,
                  done=done, name=name, role=role)


def _database_url(request: Request) -> str:
    """The store's own URL (the `--database` the app was started with, if any)."""
    return web(request).engine.url.render_as_string(hide_password=True)
