"""API tokens: random, shown once, stored as their SHA-256. A token acts as its user,
with that user's role (a removed user's tokens stop working with them)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update

from monitor.errors import UsageError
from monitor.store.eventstore import utcnow
from monitor.web.accounts.schema import api_tokens, users
from monitor.web.accounts.users import User, find_user
from monitor.web.speech import gettext

PREFIX = "gkm_"  # recognizable in a leaked paste, and by secret scanners
LAST_USED_EVERY = timedelta(minutes=1)  # not one write per API call


@dataclass(frozen=True)
class Token:
    id: int
    user: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(engine: Engine, user_name: str, label: str = "") -> tuple[int, str]:
    """(id, token). The token itself is not kept: this is the only time it is seen."""
    user = find_user(engine, user_name)
    if user is None:
        raise UsageError(f"no user named {user_name!r} (see `monitor users list`)")
    if len(label) > 200:
        raise UsageError(gettext("a token's label has at most %(most)d characters", most=200))
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        done = conn.execute(insert(api_tokens).values(
            user_id=user.id, digest=digest(token), label=label, created_at=utcnow()))
    key = done.inserted_primary_key
    assert key is not None
    return int(key[0]), token


def list_tokens(engine: Engine, user_name: str | None = None) -> list[Token]:
    query = (select(api_tokens, users.c.name.label("user"))
             .join(users, users.c.id == api_tokens.c.user_id).order_by(api_tokens.c.id))
    if user_name is not None:
        query = query.where(users.c.name == user_name)
    with engine.connect() as conn:
        return [Token(r.id, r.user, r.label, r.created_at, r.last_used_at, r.revoked_at)
                for r in conn.execute(query)]


def live_token_counts(engine: Engine) -> dict[str, int]:
    """User name -> how many of their tokens still work."""
    query = (select(users.c.name, func.count(api_tokens.c.id))
             .join(users, users.c.id == api_tokens.c.user_id)
             .where(api_tokens.c.revoked_at.is_(None)).group_by(users.c.name))
    with engine.connect() as conn:
        return {name: int(count) for name, count in conn.execute(query)}


def revoke_token(engine: Engine, token_id: int, owner_id: int | None = None) -> None:
    """Revokes token `token_id` (only if it is `owner_id`'s, when given)."""
    query = update(api_tokens).where(api_tokens.c.id == token_id,
                                     api_tokens.c.revoked_at.is_(None))
    if owner_id is not None:
        query = query.where(api_tokens.c.user_id == owner_id)
    with engine.begin() as conn:
        done = conn.execute(query.values(revoked_at=utcnow()))
    if done.rowcount == 0:
        raise UsageError(f"no live token with id {token_id} (see `monitor tokens list`)")


def user_of_token(engine: Engine, token: str) -> User | None:
    """The user a live token acts as, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at, users)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.digest == digest(token), api_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        with engine.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                         .values(last_used_at=now))
    return User.of(row)
