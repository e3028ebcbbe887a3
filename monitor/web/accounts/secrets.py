"""Secrets the web app makes for itself, kept in the store so that every process of
`monitor serve` signs and reads the same session cookies."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from monitor.web.accounts.schema import web_secrets


def app_secret(engine: Engine, name: str = "session") -> str:
    """The named secret; made at first use (two processes racing keep the first)."""
    with engine.connect() as conn:
        found = conn.execute(select(web_secrets.c.value)
                             .where(web_secrets.c.name == name)).scalar()
    if found:
        return str(found)
    try:
        with engine.begin() as conn:
            conn.execute(insert(web_secrets).values(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass
    with engine.connect() as conn:
        return str(conn.execute(select(web_secrets.c.value)
                                .where(web_secrets.c.name == name)).scalar_one())
