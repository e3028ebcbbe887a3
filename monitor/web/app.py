"""The web app: FastAPI on Starlette, pages rendered on the server with Jinja2, a JSON
API under /api/v1 with its OpenAPI document at /openapi.json.

`create_app` builds one per process; `monitor run` serves it beside the daemon and
`monitor serve` alone (monitor/web/server.py)."""

from __future__ import annotations

from importlib import import_module
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from monitor import __version__
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.store import EventStore
from monitor.web.accounts.secrets import app_secret
from monitor.web.auth import NotSignedIn, signed_in
from monitor.web.context import WebContext
from monitor.web.limits import BodyLimit
from monitor.web.security import SecurityHeaders
from monitor.web.timing import ServerTiming

SESSION_COOKIE = "monitor_session"
SESSION_DAYS = 14
# Each module adds its routes to the app (`routes(app)`); the order is the menu's.
ROUTE_MODULES = ("auth", "board", "search", "sources", "documents", "diffs", "captures",
                 "channels", "deliveries", "report", "feeds", "admin", "account", "api", "live")


def create_app(config: Config, store: EventStore) -> FastAPI:
    secure = bool(config.public_url and config.public_url.startswith("https://"))
    # /openapi.json is served by monitor/web/routes/api.py, to signed-in users only.
    app = FastAPI(title="govkz-monitor", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.web = WebContext(config, store, secure)
    app.add_middleware(SessionMiddleware, secret_key=app_secret(store.engine),
                       session_cookie=SESSION_COOKIE, max_age=SESSION_DAYS * 86400,
                       same_site="lax", https_only=secure)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, hsts=secure)
    app.add_middleware(ServerTiming)  # the outermost: it times every other layer too
    static = files("monitor.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for name in ROUTE_MODULES:
        import_module(f"monitor.web.routes.{name}").routes(app)
    _errors(app)
    return app


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or (
        "text/html" not in request.headers.get("accept", "") and
        request.headers.get("authorization") is not None)


def _errors(app: FastAPI) -> None:
    from monitor.web.templating import render

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if wants_json(request) or request.method != "GET":
            return JSONResponse({"detail": "sign in, or send Authorization: Bearer TOKEN"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(app.url_path_for("login") + "?" + _next(target), 303)

    # Starlette's own: FastAPI's is a subclass, and FastAPI raises the base class when
    # it cannot parse a body, Starlette when no route matches (404) or the method (405).
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI refuses a body it cannot parse (400) before the role check runs too.
        if exc.status_code == 400 and request.url.path.startswith("/api/") and \
                signed_in(request) is None:
            return await not_signed_in(request, NotSignedIn())
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        return render(request, "error.html", status=exc.status_code,
                      headers=dict(exc.headers or {}), code=exc.status_code,
                      message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI reads a JSON body before the role check runs: an API request without
        # a valid token must still get 401, not a description of its body.
        if request.url.path.startswith("/api/") and signed_in(request) is None:
            return await not_signed_in(request, NotSignedIn())
        problems = "; ".join(_problem(e) for e in exc.errors()[:5])
        if wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return render(request, "error.html", status=422, code=422, message=problems)

    @app.exception_handler(MonitorError)
    async def refused(request: Request, exc: MonitorError) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return render(request, "error.html", status=400, code=400, message=str(exc))


def _problem(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg"))


def _next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


def safe_next(value: str | None) -> str:
    """A place inside this app to go after signing in; anything else goes to the board."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
