"""Every route of the web app, walked against every role: nothing answers without a
login but the login page and the first-admin link (and feeds an admin made public),
and no role gets past a route meant for a higher one."""

from __future__ import annotations

import re

import pytest
import requests
from fastapi.routing import APIRoute
from starlette.routing import Mount
from web_helpers import serve

from monitor.config import Config
from monitor.store import open_store
from monitor.store.migrate import upgrade
from monitor.web.accounts.roles import ROLES, allows
from monitor.web.app import create_app

# What may answer without signing in, and why.
OPEN_ROUTES = {"/login", "/setup/{secret}"}
ASSETS = {"/static"}  # the app's own CSS and script: no data, needed by the login page


def required_role(route: APIRoute) -> str | None:
    """The role a route's auth dependency names (None: it has none)."""
    found = [getattr(dep.call, "role", None) for dep in route.dependant.dependencies]
    roles = [r for r in found if r is not None]
    assert len(roles) <= 1, f"{route.path} names several roles: {roles}"
    return roles[0] if roles else None


@pytest.fixture(scope="module")
def walked(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("routes") / "m.db"
    url = f"sqlite:///{path}"
    store = open_store(url, check_schema=False)
    upgrade(store.engine)
    config = Config(path=None, database_url=url)
    with serve(store, config) as served:
        tokens = {role: served.token(f"bot-{role}", role) for role in ROLES}
        yield served, tokens
    store.engine.dispose()


def _routes() -> list[APIRoute]:
    url = "sqlite://"
    store = open_store(url, check_schema=False)
    upgrade(store.engine)
    app = create_app(Config(path=None, database_url=url), store)
    strays = [r for r in app.routes if not isinstance(r, APIRoute | Mount)]
    assert strays == [], f"routes the walk cannot see (include_router, Starlette Route): {strays}"
    return [r for r in app.routes if isinstance(r, APIRoute)], \
        [r for r in app.routes if isinstance(r, Mount)]  # type: ignore[return-value]


ROUTES, MOUNTS = _routes()  # type: ignore[misc]


def test_every_route_names_the_role_it_needs() -> None:
    assert len(ROUTES) >= 5
    unguarded = [r.path for r in ROUTES if required_role(r) is None]
    assert unguarded == [], f"routes without a role dependency: {unguarded}"
    public = {r.path for r in ROUTES if required_role(r) == "public"}
    assert public <= OPEN_ROUTES, f"unexpected public routes: {public - OPEN_ROUTES}"
    assert {m.path for m in MOUNTS} <= ASSETS


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path).replace("{", "").replace("}", "")


CASES = [(r.path, method, required_role(r)) for r in ROUTES for method in sorted(r.methods)
         if method != "HEAD"]


@pytest.mark.parametrize(("path", "method", "role"), CASES,
                         ids=[f"{m} {p}" for p, m, _ in CASES])
def test_each_role_gets_exactly_what_it_may(walked, path: str, method: str, role: str) -> None:
    served, tokens = walked
    url = served.url + _concrete(path)
    anonymous = requests.request(method, url, allow_redirects=False, timeout=30)
    if role == "public":
        assert anonymous.status_code != 401, f"{method} {path} refused anonymous"
        if method != "GET":  # open, but still only from the app's own form
            assert anonymous.status_code == 403 and "did not come from this site" in \
                anonymous.text
        return
    assert anonymous.status_code in (401, 303), \
        f"{method} {path} answered {anonymous.status_code} without a login"
    if anonymous.status_code == 303:
        assert anonymous.headers["location"].startswith("/login")
    for who in ROLES:
        # Streamed, and closed once the status is known: /live never ends by itself.
        with requests.request(method, url, allow_redirects=False, timeout=30, stream=True,
                              headers={"Authorization": f"Bearer {tokens[who]}",
                                       "Accept": "application/json"}) as answer:
            if allows(who, role):
                assert answer.status_code not in (401, 403), \
                    f"{who} refused on {method} {path}: {answer.text[:200]}"
            else:
                assert answer.status_code == 403, \
                    f"{who} got {answer.status_code} on {method} {path} (needs {role})"
