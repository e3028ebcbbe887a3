"""Opening a database, and the few lines that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from monitor.errors import ConfigError

log = logging.getLogger(__name__)

WRITE = {"monitor_write": True}  # execution option: this transaction will append


BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for the lock; the URL's ?timeout= overrides
CONNECT_TIMEOUT = 10  # seconds to reach PostgreSQL; the URL's ?connect_timeout= overrides
# The connection pool. A check must never fail because every pooled connection is
# in use (SQLAlchemy's default, 5 + 10 overflow, refused the 16th thread after 30 s):
# SQLite connections are cheap, so its pool keeps up to SQLITE_POOL open and opens
# more when asked; PostgreSQL's is sized to the threads that share it (`pool_size`,
# plus POOL_SPARE for the daemon's own services) and a thread waits POOL_WAIT for one.
SQLITE_POOL = 64
POOL_SPARE = 5
POOL_WAIT = 600.0


def stored_json(value: Any) -> str:
    """How a JSON column's value is written: no spaces, and text as UTF-8 rather than
    \\u escapes (Cyrillic took 6 bytes a letter, 2 now). Readers parse it as before, and
    the hash chain covers `mapper.canonical_json`, never these bytes, so rows written
    either way read and verify alike. A lone surrogate cannot be UTF-8: that value
    keeps its escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def open_engine(url: str, *, read_only: bool = False, threads: int | None = None) -> Engine:
    """An Engine for a database URL, with our per-dialect settings applied.

    `read_only` opens the store so that nothing can be written through it: what the
    commands that only look use, so they work on a write-protected copy of the evidence.
    `threads`: how many threads will use it at once (the checks' workers), which
    sizes a PostgreSQL pool (SQLite's never refuses).
    """
    try:
        parsed = make_url(_with_driver(url))
    except ArgumentError as exc:
        raise ConfigError(f"database URL {url!r} is not a valid URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only)
    if parsed.get_backend_name() == "postgresql":
        try:
            return _postgres_engine(parsed, read_only, threads)
        except NoSuchModuleError as exc:  # pragma: no cover - depends on installed driver
            raise ConfigError(f"no driver for {url!r}: install psycopg[binary]") from exc
    raise ConfigError(f"database URL {url!r}: only sqlite and postgresql are supported")


def busy_timeout(engine: Engine) -> float | None:
    """How long this engine's SQLite connections wait for a lock (None: PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return None
    return float(engine.url.query.get("timeout", BUSY_TIMEOUT))  # type: ignore[arg-type]


def _with_driver(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver we ship; plain postgresql:// means it too.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _postgres_engine(parsed: URL, read_only: bool, threads: int | None) -> Engine:
    if "connect_timeout" not in parsed.query:  # libpq would wait forever for a lost host
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    engine = create_engine(parsed, pool_pre_ping=True, future=True, json_serializer=stored_json,
                           pool_size=max(5, (threads or 0) + POOL_SPARE), max_overflow=10,
                           pool_timeout=POOL_WAIT)
    if read_only:
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            # Every transaction of this connection refuses writes (SQLSTATE 25006).
            # Committed, so the pool's rollback on check-in does not undo it.
            dbapi_connection.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

    return engine


def _sqlite_engine(parsed: URL, read_only: bool) -> Engine:
    database = parsed.database or ""
    file_db = database not in ("", ":memory:") and "uri" not in parsed.query
    timeout = float(parsed.query.get("timeout", BUSY_TIMEOUT))  # type: ignore[arg-type]
    parsed = parsed.update_query_dict({"timeout": f"{timeout:g}"})  # busy_timeout() reads it
    if file_db and read_only:
        path = Path(database).expanduser()
        parsed = parsed.set(database="file:" + quote(str(path.resolve())),
                            query={**parsed.query, "uri": "true", **_read_only_options(path)})
    elif file_db:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    pool: dict[str, Any] = {"pool_size": SQLITE_POOL, "max_overflow": -1} if file_db else {}
    engine = create_engine(parsed, future=True, json_serializer=stored_json, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would
        # start a deferred one and fail with "database is locked" on upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:  # a reader takes the journal as it is: setting it is a write
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    writers = threading.Lock()  # this engine's writers, one at a time: see below

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock at BEGIN, so two racing appends queue on
        # the busy timeout instead of both reading version N and one failing late.
        # The threads of one process queue on `writers` first: SQLite's busy handler
        # polls, sleeping up to 100 ms between tries, so 16 checkers spent 70% of
        # their time waiting at BEGIN IMMEDIATE with the lock often free (issue 13);
        # this lock hands over at once. Other processes are still SQLite's to queue.
        immediate = conn.get_execution_options().get("monitor_write")
        if immediate:  # held in the connection's record: released however it ends
            conn.info[_WRITER] = writers.acquire(timeout=timeout)
            if not conn.info[_WRITER]:  # a writer of ours held on: SQLite queues this one
                log.warning("waited %.0f s for this process's other writer; going on", timeout)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            _release(conn.info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_WRITER, False):
            writers.release()

    # Released once the COMMIT or ROLLBACK has run (the engine's "commit" event comes
    # before it: the next writer would meet SQLite's lock still held, and poll).
    dialect = engine.dialect
    plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            plain_commit(dbapi_connection)
        finally:
            _release_held(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            plain_rollback(dbapi_connection)
        finally:
            _release_held(dbapi_connection)

    def _release_held(dbapi_connection: Any) -> None:
        try:  # the pool's own resets pass connections without an `info` of their own
            info = dbapi_connection.info
        except (AttributeError, NotImplementedError):
            return  # check-in releases what such a connection held
        _release(info)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    # a connection dropped without either (garbage collected) is reset on check-in
    event.listen(engine.pool, "checkin", lambda _dbapi, record: _release(record.info))

    return engine


_WRITER = "monitor_writer"  # conn.info key: this connection holds the engine's writer lock


def _read_only_options(path: Path) -> dict[str, str]:
    """SQLite URI options that open `path` without writing to it or beside it.

    mode=ro alone still creates -wal and -shm files beside a WAL database (SQLite needs
    the shared memory to read one). That is right for a live store, but a
    write-protected copy of the evidence must stay exactly as it is. Such a copy has no
    -wal file (so nothing lives outside the main file) and no write permission: open
    it `immutable`, which reads the file alone, without locks. A live store is
    writable, so it is read with mode=ro and the writer's locks are respected.
    """
    wal = path.with_name(path.name + "-wal")
    if path.exists() and not wal.exists() and _write_protected(path):
        return {"mode": "ro", "immutable": "1"}
    return {"mode": "ro"}


def _write_protected(path: Path) -> bool:
    # Permission bits, not only os.access: root may write anything, yet a file or
    # directory with no write bit was protected on purpose.
    directory = path.resolve().parent
    return (
        not os.access(path, os.W_OK) or not os.access(directory, os.W_OK)
        or not path.stat().st_mode & 0o222 or not directory.stat().st_mode & 0o222
    )


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
