"""Alembic environment: runs migrations on a connection `monitor init` hands us,
or on MONITOR_DATABASE_URL when run as `alembic upgrade head`."""

from __future__ import annotations

import os

from alembic import context

from monitor.store.database import open_engine
from monitor.store.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MONITOR_DATABASE_URL")
    if not url:
        raise SystemExit("set MONITOR_DATABASE_URL (or sqlalchemy.url in alembic.ini)")
    engine = open_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # All steps in one transaction, on SQLite too: Alembic thinks SQLite DDL cannot
        # be rolled back and commits after each step, so a downgrade refused at 0001
        # had already dropped the later tables (deliveries: alerts were sent again).
        # Our SQLite engine issues BEGIN itself (monitor/store/database.py), which makes
        # its DDL transactional; the refusal now rolls every step back.
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
