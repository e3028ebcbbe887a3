"""Driver errors turned into the store's own, each saying truly what went wrong.

A user told "the store is not initialized" while PostgreSQL was down, the disk was
full or the file was read-only (issue 9) looks for the wrong fix. So every error is
classified by what the driver says it is (SQLite's result code, PostgreSQL's
SQLSTATE), never by the operation that happened to hit it, and the message names
the store (host:port, never the password; or the file) and what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from monitor.errors import (
    ConstraintViolated,
    DataRejected,
    PersistenceError,
    SchemaError,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    StoreUnavailable,
)
from monitor.store.database import busy_timeout

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_ERROR, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 1, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_TOOBIG, _SQLITE_CONSTRAINT, _SQLITE_MISMATCH, _SQLITE_NOTADB = 18, 19, 20, 26

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_LOCKED = {"55P03", "55006", "40P01", "57014"}  # lock timeout, in use, deadlock, timeout
_PG_FULL = {"53100"}  # disk full
_PG_UNAVAILABLE_CLASSES = ("08", "28", "3D", "57P", "53300")  # connection, login, db, shutdown
_PG_UNDEFINED = {"42P01", "3F000"}  # no such table, no such schema


def describe_store(url: URL | str | None) -> str:
    """How messages name a store: its file, or PostgreSQL's host:port/database."""
    if url is None:
        return "the store"
    if isinstance(url, str):
        url = make_url(url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        return f"the store {unquote(database.removeprefix('file:').split('?')[0])}"
    host = url.host or "localhost"
    port = url.port or 5432
    return f"PostgreSQL at {host}:{port}/{url.database or ''}"


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Driver errors met on `engine` inside the block come out as the store's own."""
    try:
        yield
    except DBAPIError as exc:
        raise store_error(exc, engine.url, busy_timeout(engine)) from exc


def database_error(exc: BaseException) -> bool:
    """Whether `exc` comes from the database driver (wrapped by SQLAlchemy or not)."""
    return isinstance(exc, DBAPIError) or _driver_module(exc) in ("sqlite3", "psycopg")


def store_error(exc: BaseException, url: URL | str | None = None,
                waited: float | None = None) -> PersistenceError:
    """The store's own error for a driver error; `url` names the store in the message,
    `waited` is how long SQLite waited for a lock (its busy timeout)."""
    original = getattr(exc, "orig", None) or exc
    first = _first_line(original)
    where = describe_store(url)
    if _driver_module(original) == "sqlite3":
        error = _sqlite_error(original, first, where, waited)
        if isinstance(error, StoreUnavailable | StoreReadOnly) and _on_read_only_fs(url):
            # SQLite says "unable to open database file" when it cannot create its
            # journal beside a file on a read-only mount: name the real cause.
            return StoreReadOnly(f"{where} is on a read-only filesystem ({first}): this "
                                 "command writes; remount it read-write or work on a "
                                 "writable copy")
        return error
    if _driver_module(original) == "psycopg":
        return _postgres_error(original, first, where, url)
    return PersistenceError(f"database error on {where}: {first}")


def _sqlite_error(exc: Any, first: str, where: str, waited: float | None) -> PersistenceError:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        wait = f" (waited {waited:g} s)" if waited is not None else ""
        return StoreLocked(f"{where} is locked by another process{wait}: try again when "
                           "the other writer is done")
    if code == _SQLITE_FULL:
        return _full(where, first)
    if code == _SQLITE_READONLY:
        return _read_only(where, first)
    if code == _SQLITE_CANTOPEN:
        return StoreUnavailable(f"cannot open {where} ({first}): check that the file and its "
                                "directory exist and may be read")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return PersistenceError(f"{where} is damaged or not a SQLite database ({first}); "
                                "restore it from a copy and run `monitor verify`")
    if code == _SQLITE_IOERR:
        return PersistenceError(f"disk I/O error on {where} ({first}): check the disk, and "
                                "that the file was not moved or deleted while in use")
    if code == _SQLITE_CONSTRAINT:
        return _constraint(first.partition("constraint failed: ")[2] or first, first)
    if code in (_SQLITE_TOOBIG, _SQLITE_MISMATCH) or type(exc).__name__ == "DataError":
        return _rejected(first)
    if code == _SQLITE_ERROR and first.startswith("no such table"):
        return _not_initialized(where, first)
    return PersistenceError(f"database error on {where}: {first}")


def _postgres_error(exc: Any, first: str, where: str, url: URL | str | None) -> PersistenceError:
    state = getattr(exc, "sqlstate", None) or ""
    kind = type(exc).__name__
    if not state and kind == "OperationalError":  # libpq failed before any SQLSTATE
        reason = _connect_reason(first) if url is not None else first
        return StoreUnavailable(f"cannot connect to {where} ({reason}): is "
                                "the server running, and are the host, port and login right?")
    if state in _PG_LOCKED:
        return StoreLocked(f"{where}: gave up waiting for a lock ({first}); try again when "
                           "the other writer is done")
    if state in _PG_FULL:
        return _full(where, first)
    if state == "25006":
        return _read_only(where, first)
    if state.startswith(_PG_UNAVAILABLE_CLASSES):
        return StoreUnavailable(f"cannot use {where} ({first}): is the server running, and "
                                "are the host, port and login right?")
    if state in _PG_UNDEFINED:
        return _not_initialized(where, first)
    if state.startswith("23"):
        diag = getattr(exc, "diag", None)
        return _constraint(getattr(diag, "constraint_name", None) or state, first)
    if state.startswith("22") or kind == "DataError":
        return _rejected(first)
    return PersistenceError(f"database error on {where}: {first}")


def _on_read_only_fs(url: URL | str | None) -> bool:
    """Whether the SQLite file named by `url` exists on a filesystem mounted read-only."""
    if url is None:
        return False
    if isinstance(url, str):
        url = make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return False
    path = unquote(url.database.removeprefix("file:").split("?")[0])
    if path == ":memory:" or not os.path.exists(path):
        return False
    try:
        flags = os.statvfs(os.path.dirname(os.path.abspath(path))).f_flag
    except OSError:
        return False
    return bool(flags & os.ST_RDONLY)


def _full(where: str, first: str) -> StoreFull:
    return StoreFull(f"disk full: {where} cannot grow ({first}); nothing was written: free "
                     "some space and run the command again")


def _read_only(where: str, first: str) -> StoreReadOnly:
    return StoreReadOnly(f"{where} is read-only ({first}): this command writes, so check "
                         "the permissions of the file and its directory, and that the "
                         "filesystem is not mounted read-only")


def _not_initialized(where: str, first: str) -> SchemaError:
    return SchemaError(f"{where} is not initialized ({first}); run `monitor init`")


def _constraint(name: str, first: str) -> ConstraintViolated:
    return ConstraintViolated(name, f"the write broke the database constraint {name} "
                                    f"({first}); nothing was written")


def _rejected(first: str) -> DataRejected:
    return DataRejected(f"the database refused a value ({first}); nothing was written")


def _connect_reason(first: str) -> str:
    # libpq: 'connection failed: connection to server at "h", port 1 failed: Connection
    # refused'. The store's description already names host and port: keep the reason.
    reason = re.split(r"failed:\s*", first)[-1].strip()
    return reason.removeprefix("FATAL:").strip() or first


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _driver_module(exc: BaseException) -> str:
    return type(exc).__module__.split(".")[0]
