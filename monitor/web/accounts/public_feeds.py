"""Feeds an admin marked public: readable with no login and no token. Kept by feed key
("all", "source:NAME", "tag:TAG"), so a mark outlives the sources a tag selects today."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from monitor.store.eventstore import utcnow
from monitor.web.accounts.schema import public_feeds


def is_public(engine: Engine, key: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(select(public_feeds.c.feed).where(public_feeds.c.feed == key))
        return found.first() is not None


def public_keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(public_feeds.c.feed)).scalars())


def mark_public(engine: Engine, key: str, by: str) -> None:
    """Marks the feed public (marking it twice changes nothing)."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(public_feeds).values(feed=key, marked_by=by, marked_at=utcnow()))
    except IntegrityError:
        pass


def unmark_public(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(public_feeds).where(public_feeds.c.feed == key))
