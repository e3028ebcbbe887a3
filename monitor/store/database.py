"""Opening a database, and the few lines that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from monitor.errors import ConfigError

WRITE = {"monitor_write": True}  # execution option: this transaction will append


def open_engine(url: str) -> Engine:
    """An Engine for a database URL, with our per-dialect settings applied."""
    try:
        parsed = make_url(_with_driver(url))
    except ArgumentError as exc:
        raise ConfigError(f"database URL {url!r} is not a valid URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(parsed, pool_pre_ping=True, future=True)
        except NoSuchModuleError as exc:  # pragma: no cover - depends on installed driver
            raise ConfigError(f"no driver for {url!r}: install psycopg[binary]") from exc
    raise ConfigError(f"database URL {url!r}: only sqlite and postgresql are supported")


def _with_driver(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver we ship; plain postgresql:// means it too.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_engine(parsed: Any) -> Engine:
    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would
        # start a deferred one and fail with "database is locked" on upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock at BEGIN, so two racing appends queue on
        # the busy timeout instead of both reading version N and one failing late.
        immediate = conn.get_execution_options().get("monitor_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def serialize_appends(conn: Connection) -> None:
    """Make appends commit in position order.

    PostgreSQL hands out positions when rows are inserted, not when they commit:
    without this lock a transaction holding position 11 can commit after one
    holding 12, and a follower that has already read 12 would never see 11.
    EXCLUSIVE mode blocks other writers but not readers. SQLite needs nothing:
    BEGIN IMMEDIATE already admits one writer at a time.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(_with_driver(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return url
