"""The one-time link that creates the first admin. While the store has no users, the
daemon (or `monitor serve`) makes one and prints it; it works once, for a day, and
never once a user exists."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select

from monitor.errors import UsageError
from monitor.store.eventstore import utcnow
from monitor.web.accounts.roles import ADMIN
from monitor.web.accounts.schema import invites
from monitor.web.accounts.users import User, add_user, count_users
from monitor.web.speech import gettext

LIFETIME = timedelta(days=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def first_admin_link(engine: Engine, base_url: str) -> str | None:
    """A fresh link for the first admin, or None when there are users already."""
    if count_users(engine) > 0:
        return None
    secret = secrets.token_urlsafe(24)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(delete(invites).where(invites.c.expires_at < now))
        conn.execute(insert(invites).values(digest=_digest(secret), role=ADMIN,
                                            expires_at=now + LIFETIME))
    return f"{base_url.rstrip('/')}/setup/{secret}"


def invite_valid(engine: Engine, secret: str) -> bool:
    if len(secret) > 100 or count_users(engine) > 0:
        return False
    with engine.connect() as conn:
        row = conn.execute(select(invites.c.expires_at)
                           .where(invites.c.digest == _digest(secret))).first()
    return row is not None and row.expires_at > utcnow()


def accept_invite(engine: Engine, secret: str, name: str, password: str) -> User:
    """Creates the first admin, and spends every link."""
    if not invite_valid(engine, secret):
        raise UsageError(gettext("This link has expired or was used already."))
    with engine.begin() as conn:
        spent = conn.execute(delete(invites).where(invites.c.digest == _digest(secret)))
    if spent.rowcount == 0:  # another request took it first
        raise UsageError(gettext("This link has expired or was used already."))
    user = add_user(engine, name, ADMIN, password)
    with engine.begin() as conn:
        conn.execute(delete(invites))
    return user
