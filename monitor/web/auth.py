"""Who is asking, and may they? Every route names the role it needs with one of the
dependencies here (`Viewer`, `Editor`, `Admin`, `FeedReader` for the Atom feeds, or
`Public` for the login page); the route-table test walks every route and checks that
each names one.

A request is signed in by the session cookie (browsers) or by `Authorization: Bearer
TOKEN` (scripts); a token acts as its user, with that user's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from monitor.web.accounts.public_feeds import is_public
from monitor.web.accounts.roles import ADMIN, EDITOR, VIEWER, allows
from monitor.web.accounts.tokens import user_of_token
from monitor.web.accounts.users import User, user_by_id
from monitor.web.context import web
from monitor.web.csrf import SAFE_METHODS, require_csrf
from monitor.web.feeds import feed_of_path
from monitor.web.labels import named
from monitor.web.speech import gettext
from monitor.web.templating import speak_to

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


class NotSignedIn(Exception):
    """No session and no valid token: a browser goes to the login page, a script gets 401."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def signed_in(request: Request) -> User | None:
    """The user of the request's token or session, or None. Sets `request.state.via`."""
    engine = web(request).engine
    token = bearer_token(request)
    if token is not None:
        request.state.via = "token"
        return user_of_token(engine, token)
    uid, epoch = request.session.get(SESSION_USER), request.session.get(SESSION_EPOCH)
    if not isinstance(uid, int):
        return None
    user = user_by_id(engine, uid)
    if user is None or user.epoch != epoch:  # removed, or the password changed since
        request.session.pop(SESSION_USER, None)
        return None
    request.state.via = "session"
    return user


def sign_in(request: Request, user: User) -> None:
    """A fresh session for `user` (the old one, and its CSRF token, are dropped)."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_EPOCH] = user.epoch


def sign_out(request: Request) -> None:
    request.session.clear()


@dataclass(frozen=True)
class Need:
    """A route's dependency: the signed-in user if their role allows `role`. A request
    that changes something through a session must carry the CSRF token."""

    role: str

    async def __call__(self, request: Request) -> User:
        user = getattr(request.state, "user", None) or signed_in(request)
        if user is None:
            raise NotSignedIn()
        request.state.user = user
        speak_to(request)
        if not allows(user.role, self.role):
            raise HTTPException(403, _role_refused(self.role, user.role))
        if request.method not in SAFE_METHODS and request.state.via == "session":
            await require_csrf(request)
        return user


@dataclass(frozen=True)
class Open:
    """A route anyone may reach (the login page, the first-admin link). A POST still
    needs the CSRF token of the visitor's session."""

    role: str = "public"

    async def __call__(self, request: Request) -> User | None:
        user = signed_in(request)
        request.state.user = user
        speak_to(request)  # first: a refused form is said in the reader's language too
        if request.method not in SAFE_METHODS:
            await require_csrf(request)
        return user


@dataclass(frozen=True)
class FeedAccess:
    """A feed's reader (`public_feed`): a signed-in viewer, or an API token in the URL
    (`?token=gkm_…`, for feed readers that cannot send a header), or no one at all when
    an admin marked the feed public. A wrong token is refused even then: whoever sent
    it expects to be someone. Feeds only read, so there is no CSRF to check."""

    role: str = VIEWER
    public_feed: bool = True

    async def __call__(self, request: Request) -> User | None:
        engine = web(request).engine
        token = request.query_params.get("token")
        if token is not None:
            user = user_of_token(engine, token)
            request.state.via = "token"
        else:
            user = signed_in(request)
        request.state.user = user
        speak_to(request)
        if user is None and (token is not None or bearer_token(request) is not None):
            raise HTTPException(401, gettext("this token does not work: revoked, or mistyped"),
                                headers={"WWW-Authenticate": "Bearer"})
        if user is None:
            if is_public(engine, feed_of_path(request.path_params).key):
                return None
            raise HTTPException(401, gettext("this feed needs a sign-in, or ?token= with an "
                                             "API token"),
                                headers={"WWW-Authenticate": "Bearer"})
        if not allows(user.role, self.role):
            raise HTTPException(403, _role_refused(self.role, user.role))
        return user


def _role_refused(needed: str, role: str) -> str:
    return gettext("this needs the %(needed)s role; you are %(role)s",
                   needed=named(needed, "role"), role=named(role, "role"))


Viewer = Annotated[User, Depends(Need(VIEWER))]
Editor = Annotated[User, Depends(Need(EDITOR))]
Admin = Annotated[User, Depends(Need(ADMIN))]
Public = Annotated[User | None, Depends(Open())]
FeedReader = Annotated[User | None, Depends(FeedAccess())]
