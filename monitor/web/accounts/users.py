"""People who sign in to the web app: names, roles, argon2id password hashes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.errors import ConfigError, UsageError
from monitor.store.database import WRITE
from monitor.store.eventstore import utcnow
from monitor.web.accounts.roles import ADMIN, role_problem
from monitor.web.accounts.schema import api_tokens, users
from monitor.web.speech import gettext

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything; a megabyte "password" is an attack on the CPU

MEMORY_ENV = "MONITOR_ARGON2_MEMORY_KIB"


def _password_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes), the library's
    default. $MONITOR_ARGON2_MEMORY_KIB lowers the memory for a small machine (at least
    8 MiB there; the test suite uses less, to keep thousands of sign-ins fast). A hash
    keeps its own parameters, so changing this never locks anyone out: the next
    sign-in re-hashes with the new ones."""
    memory = os.environ.get(MEMORY_ENV, "").strip()
    if not memory:
        return PasswordHasher()
    if not memory.isdigit() or not 64 <= int(memory) <= 4 * 1024 * 1024:
        raise ConfigError(f"${MEMORY_ENV}: {memory!r} is not a number of KiB from 64 "
                          "to 4194304 (default 65536)")
    return PasswordHasher(memory_cost=int(memory), time_cost=3 if int(memory) >= 8192 else 1)


_hasher = _password_hasher()
# Verified when a name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("not a password anyone has")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    language: str | None
    timezone: str | None
    epoch: int
    has_password: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> User:
        return cls(row.id, row.name, row.role, row.language, row.timezone, row.epoch,
                   row.password_hash is not None, row.created_at)


def name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not NAME.match(name):
        return gettext("%(name)s is not a user name: 1-64 letters, digits, '.', '_', '@' or "
                       "'-', starting with a letter or digit", name=repr(name))
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return gettext("a password needs at least %(least)d characters", least=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return gettext("a password has at most %(most)d characters", most=MAX_PASSWORD)
    return None


def add_user(engine: Engine, name: str, role: str, password: str | None) -> User:
    for problem in (name_problem(name), role_problem(role),
                    password_problem(password) if password is not None else None):
        if problem:
            raise UsageError(problem)
    hashed = _hasher.hash(password) if password is not None else None
    try:
        with engine.begin() as conn:
            conn.execute(insert(users).values(name=name, role=role, password_hash=hashed,
                                              epoch=1, created_at=utcnow()))
    except IntegrityError:
        raise UsageError(gettext("a user named %(name)s exists already",
                                 name=repr(name))) from None
    found = find_user(engine, name)
    assert found is not None
    return found


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    return User.of(row) if row is not None else None


def user_by_id(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return User.of(row) if row is not None else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [User.of(r) for r in conn.execute(select(users).order_by(users.c.name))]


def count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def remove_user(engine: Engine, name: str, keep_an_admin: bool = False) -> None:
    """Removes the user and revokes their tokens; their sessions end at the next request.
    `keep_an_admin`: refuse to remove the last admin (the web app; the command line may,
    and then a first-admin link can be made again once no user is left)."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        row = conn.execute(select(users.c.id, users.c.role).where(users.c.name == name)).first()
        if row is None:
            raise UsageError(gettext("no user named %(name)s (see `monitor users list`)",
                                     name=repr(name)))
        if keep_an_admin and row.role == ADMIN and _admins(conn) <= 1:
            raise UsageError(_last_admin(name))
        conn.execute(update(api_tokens).where(api_tokens.c.user_id == row.id,
                                              api_tokens.c.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))
        conn.execute(delete(users).where(users.c.id == row.id))


def set_role(engine: Engine, name: str, role: str) -> User:
    """Gives `name` another role; the last admin cannot be made anything else. The
    change holds at the user's next request (sessions and tokens read the role)."""
    problem = role_problem(role)
    if problem:
        raise UsageError(problem)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        row = conn.execute(select(users.c.id, users.c.role).where(users.c.name == name)).first()
        if row is None:
            raise UsageError(_no_user(name))
        if row.role == ADMIN and role != ADMIN and _admins(conn) <= 1:
            raise UsageError(_last_admin(name))
        conn.execute(update(users).where(users.c.id == row.id).values(role=role))
    found = user_by_id(engine, row.id)
    assert found is not None
    return found


def _no_user(name: str) -> str:
    return gettext("no user named %(name)s", name=repr(name))


def _last_admin(name: str) -> str:
    return gettext("%(name)s is the last admin: make another user admin first", name=repr(name))


def _admins(conn: Connection) -> int:
    """The admins, in a writing transaction: their rows locked on PostgreSQL, the
    store's write lock taken at BEGIN on SQLite, so that two admins demoting each
    other at once cannot both succeed (the second waits, then counts one)."""
    ids = conn.execute(select(users.c.id).where(users.c.role == ADMIN).with_for_update()).all()
    return len(ids)


def set_password(engine: Engine, name: str, password: str) -> None:
    """A new password ends every session signed before it."""
    problem = password_problem(password)
    if problem:
        raise UsageError(problem)
    with engine.begin() as conn:
        done = conn.execute(update(users).where(users.c.name == name).values(
            password_hash=_hasher.hash(password), epoch=users.c.epoch + 1))
    if done.rowcount == 0:
        raise UsageError(_no_user(name))


def set_preferences(engine: Engine, user_id: int, language: str | None,
                    timezone: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(language=language, timezone=timezone))


def check_password(engine: Engine, name: str, password: str) -> User | None:
    """The user if `password` is theirs, else None (in about the same time either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    hashed = row.password_hash if row is not None and row.password_hash else _DUMMY
    try:
        _hasher.verify(hashed, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash:
        return None
    if _hasher.check_needs_rehash(hashed):
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id)
                         .values(password_hash=_hasher.hash(password)))
    return User.of(row)
