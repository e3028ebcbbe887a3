"""One exception tree for the whole monitor.

Callers catch meaning (a conflict, a bad config, a failed fetch), never driver
exceptions. The CLI turns each into one line and an exit code.
"""

from __future__ import annotations

from typing import Any

from monitor.untrusted import one_line


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""

    exit_code = 1


class ConfigError(MonitorError):
    """The configuration file or an environment override is invalid."""

    exit_code = 2


class UsageError(MonitorError):
    """The user asked for something that does not exist or makes no sense."""

    exit_code = 2


class PersistenceError(MonitorError):
    """The store could not be read or written."""


class ConcurrencyConflict(PersistenceError):
    """Another writer appended to the stream first: expected_version is stale."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None = None):
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        detail = "" if actual_version is None else f", stream is at {actual_version}"
        super().__init__(
            f"stream {stream_id!r} was changed by another writer "
            f"(expected version {expected_version}{detail})"
        )


class StoreUnavailable(PersistenceError):
    """The database cannot be reached or opened: the server is down, refuses the login,
    or the file cannot be opened."""


class StoreLocked(PersistenceError):
    """Another process held the store's lock for longer than we wait for it."""


class StoreFull(PersistenceError):
    """The disk holding the store (or the database's size limit) is full."""


class StoreReadOnly(PersistenceError):
    """The store can only be read: a read-only file, directory, filesystem or open."""


class DataRejected(PersistenceError):
    """The database refused a value: a NUL character, a string too long, a number too big."""


class ConstraintViolated(PersistenceError):
    """A write broke a database constraint other than a stream's version."""

    def __init__(self, constraint: str, message: str):
        self.constraint = constraint
        super().__init__(message)


class IntegrityViolation(PersistenceError):
    """The stored log does not match its hash chain."""


class SchemaError(PersistenceError):
    """The database schema is missing or not at the version this code needs."""


# Every FetchFailed kind (its docstring says what each means).
FETCH_FAILURE_KINDS = ("timeout", "connection", "dns", "tls", "http_error", "server_error",
                       "not_found", "too_large", "binary", "content_type", "encoding",
                       "empty", "redirect_loop", "blocked", "challenge", "parse",
                       "rate_limited", "invalid_url", "internal")


class FetchFailed(MonitorError):
    """A page could not be fetched or read; `kind` classifies why.

    Kinds: timeout, connection, dns, tls, http_error, server_error, not_found,
    too_large, binary, content_type, encoding, empty, redirect_loop, blocked,
    challenge, parse, rate_limited, invalid_url; and internal, recorded by the check
    when it crashed on the source (a bug: the page itself may be fine).
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None,
                 judged_by: str | None = None, evidence: dict[str, Any] | None = None):
        self.kind = kind
        self.status = status
        # A not_found's rule and what showed it (monitor.removal), for the removal.
        self.judged_by = judged_by
        self.evidence = evidence or {}
        # Messages quote what servers said (reason phrases, URLs, TLS errors) and are
        # stored and printed: no terminal control sequence gets through.
        super().__init__(one_line(message))
