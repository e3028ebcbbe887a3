"""How the fetcher treats a host: few requests at once, spaced out, and retried only
as often and as late as the server asks.

Used by `monitor.fetch`; nothing here knows about pages or sources.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from urllib3.exceptions import (
    InvalidHeader,
    MaxRetryError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util.retry import Retry

from monitor.netguard import deadline_error

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HostGate:
    """At most `limit` requests in flight to one host, their starts `min_delay` apart."""

    def __init__(self, limit: int, min_delay: float) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._min_delay = min_delay
        self._next_start = 0.0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the host's slots for the whole request, body included."""
        with self._slots:
            with self._lock:  # reserve a start time, then sleep without holding the lock
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self._min_delay
            if start > now:
                time.sleep(start - now)
            yield

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold one of the host's slots without the spacing: what a page just loaded
        asks of its own site (scripts, styles, images), as its browser would."""
        with self._slots:
            yield


class PoliteRetry(Retry):
    """urllib3's Retry, except that it never sleeps through a Retry-After too long to wait.

    Raising MaxRetryError from increment() makes urllib3 (with raise_on_status=False)
    hand back that 429/503 at once instead of sleeping; the fetcher reports it.
    Read timeouts and TLS failures are not retried: a server too slow to answer, or
    with a certificate we cannot trust, is asked once per check, not hammered. Nor is
    anything once the fetch's deadline has passed, or when the wait before the next
    try would pass it: the last answer or error stands.
    """

    def __init__(self, *args: Any, max_retry_after: float = 120.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kw: Any) -> Self:
        kw.setdefault("max_retry_after", self.max_retry_after)
        return super().new(**kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:  # a malformed Retry-After: fall back to our own backoff
            return None

    def waits_too_long(self, response: BaseHTTPResponse) -> float | None:
        """The Retry-After of `response` when it is more than we are willing to wait."""
        wait = self.get_retry_after(response) if self.respect_retry_after_header else None
        return wait if wait is not None and wait > self.max_retry_after else None

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, (ReadTimeoutError, SSLError)):
            raise MaxRetryError(_pool, url or "", error) from error  # type: ignore[arg-type]
        if late := deadline_error():
            raise MaxRetryError(_pool, url or "", late) from error  # type: ignore[arg-type]
        if response is not None and (wait := self.waits_too_long(response)):
            reason = ResponseError(f"Retry-After of {wait:.0f} s is too long to wait")
            raise MaxRetryError(_pool, url or "", reason)  # type: ignore[arg-type]
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = (self.get_retry_after(response) if response is not None
                and self.respect_retry_after_header else None)
        if deadline_error(after=retry.get_backoff_time() if wait is None else wait):
            # No time to wait and try again: the failure so far is the outcome.
            last: Exception = error or ResponseError("no time to try again before the deadline")
            raise MaxRetryError(_pool, url or "", last) from error  # type: ignore[arg-type]
        return retry
