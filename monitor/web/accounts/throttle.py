"""Login throttling, kept in the store so every `monitor serve` process sees it: after
too many failures for one account name, or from one address, in a window, sign-in is
refused until the window has moved on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, func, insert, select

from monitor.store.eventstore import utcnow
from monitor.web.accounts.schema import login_failures

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20


def _subjects(name: str, address: str) -> dict[str, int]:
    return {f"user:{name[:190]}": PER_ACCOUNT, f"addr:{address[:190]}": PER_ADDRESS}


def throttled(engine: Engine, name: str, address: str) -> bool:
    since = utcnow() - WINDOW
    with engine.connect() as conn:
        for subject, limit in _subjects(name, address).items():
            count = conn.execute(select(func.count()).select_from(login_failures).where(
                login_failures.c.subject == subject, login_failures.c.at > since)).scalar_one()
            if count >= limit:
                return True
    return False


def record_failure(engine: Engine, name: str, address: str) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.at < now - WINDOW))
        conn.execute(insert(login_failures), [{"subject": s, "at": now}
                                              for s in _subjects(name, address)])


def forget_failures(engine: Engine, name: str) -> None:
    """A successful sign-in clears the account's count (not the address's)."""
    with engine.begin() as conn:
        conn.execute(delete(login_failures)
                     .where(login_failures.c.subject == f"user:{name[:190]}"))
