"""Changes without a reload: `GET /live` is a Server-Sent Events stream that says the
log's newest position whenever it moves; the board's script then fetches its rows again.

The log is read at most once per POLL_SECONDS per process, however many browsers
listen (`LogWatch.newest`): `max(position)` is one index seek. A stream ends after
LIFETIME_SECONDS (the browser reconnects on its own, `retry`), so no connection is
held for ever, and at once when the server stops (`close_streams`): uvicorn would
otherwise wait for it, then cancel it with an error in the log.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from monitor.store import EventStore

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LIFETIME_SECONDS = 180.0
RETRY_MS = 2000  # how long the browser waits before it reconnects
_TICK = 0.2  # how soon a stream notices the server stopping

_WATCHES: weakref.WeakSet[LogWatch] = weakref.WeakSet()


class LogWatch:
    """The newest position of one store's log, shared by every stream of an app."""

    def __init__(self, store: EventStore, poll: float = POLL_SECONDS,
                 heartbeat: float = HEARTBEAT_SECONDS, lifetime: float = LIFETIME_SECONDS) -> None:
        self.store = store
        self.poll, self.heartbeat, self.lifetime = poll, heartbeat, lifetime
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._newest = 0
        _WATCHES.add(self)

    def newest(self) -> int:
        """The log's newest position, read again when the last read is `poll` old."""
        with self._lock:
            if time.monotonic() - self._read_at < self.poll:
                return self._newest
        newest = self.store.last_position()
        with self._lock:
            self._newest, self._read_at = newest, time.monotonic()
        return newest

    def close(self) -> None:
        self.closing.set()

    async def events(self) -> AsyncIterator[str]:
        """The stream: the position at once, then each new one, a comment when quiet."""
        started = time.monotonic()
        shown = await run_in_threadpool(self.newest)
        yield f"retry: {RETRY_MS}\n" + _position(shown)
        said = time.monotonic()
        while not self.closing.is_set() and time.monotonic() - started < self.lifetime:
            await self._pause(self.poll)
            if self.closing.is_set():
                break
            newest = await run_in_threadpool(self.newest)
            if newest != shown:
                shown = newest
                yield _position(newest)
                said = time.monotonic()
            elif time.monotonic() - said >= self.heartbeat:
                yield ": still here\n\n"  # keeps proxies from closing a quiet connection
                said = time.monotonic()

    async def _pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.closing.is_set() and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(_TICK, left))


def _position(position: int) -> str:
    return f"event: position\nid: {position}\ndata: {position}\n\n"


def close_streams(app: Any) -> None:
    """Ends the open streams of `app` (a FastAPI app with routes from this module)."""
    watch = getattr(getattr(app, "state", None), "live", None)
    if isinstance(watch, LogWatch):
        watch.close()


def close_all() -> None:
    """Ends every open stream of this process (it is shutting down)."""
    for watch in list(_WATCHES):
        watch.close()
