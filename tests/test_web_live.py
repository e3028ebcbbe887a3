"""Changes without a reload: GET /live streams the log's newest position as Server-Sent
Events, read here as a browser's EventSource would (a real server, a real store)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import Client, Served, serve

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.events import FetchFailedEvent
from monitor.store import EventStore, migrate, open_store
from monitor.web.live import LogWatch


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


def _viewer(served: Served) -> Client:
    client = served.client()
    client.headers["Authorization"] = f"Bearer {served.token('reader', 'viewer')}"
    return client


def _positions(lines: Iterator[str]) -> Iterator[int]:
    """The `position` events of a stream, as EventSource dispatches them."""
    kind, data = "message", ""
    for line in lines:
        if line == "":
            if kind == "position":
                yield int(data)
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()


def _add(store: EventStore, name: str) -> None:
    register(store, SourceConfig(name=name, url=f"http://127.0.0.1:9/{name}", kind="html",
                                 interval_seconds=600))


def test_live_sends_a_new_position_after_an_event_is_appended(store) -> None:  # type: ignore[no-untyped-def]
    _add(store, "first")
    with serve(store) as served, _viewer(served).get(
            "/live", stream=True, timeout=(5, 10)) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-store"
        positions = _positions(answer.iter_lines(decode_unicode=True))
        assert next(positions) == store.last_position()  # at once: where the log is
        started = time.monotonic()
        store.append("first", store.stream_version("first"),
                     [FetchFailedEvent(kind="timeout", message="slow")])
        assert next(positions) == store.last_position()
        assert time.monotonic() - started < 5


def test_live_needs_a_viewer(sqlite_store) -> None:
    with serve(sqlite_store) as served:
        anonymous = Client(served.url)
        assert anonymous.get("/live", allow_redirects=False).status_code == 303
        refused = anonymous.get("/live", headers={"Authorization": "Bearer gkm_wrong"})
        assert refused.status_code == 401


def test_an_open_stream_does_not_hold_the_servers_shutdown(sqlite_store) -> None:
    with serve(sqlite_store) as served:
        answer = _viewer(served).get("/live", stream=True, timeout=(5, 10))
        lines = answer.iter_lines(decode_unicode=True)
        assert next(_positions(lines)) == 0
        stopping = time.monotonic()
    stopped = time.monotonic() - stopping
    # uvicorn would wait its graceful timeout (3 s) for the stream, then cancel it
    assert stopped < 2.5, stopped
    assert list(lines) == []  # the server ended the stream
    answer.close()


def test_a_stream_ends_after_its_lifetime_and_keeps_a_quiet_line_alive(sqlite_store) -> None:
    _add(sqlite_store, "one")
    watch = LogWatch(sqlite_store, poll=0.05, heartbeat=0.2, lifetime=0.7)

    async def read() -> list[str]:
        return [chunk async for chunk in watch.events()]

    started = time.monotonic()
    chunks = asyncio.run(read())
    assert 0.6 < time.monotonic() - started < 3
    assert chunks[0].startswith("retry: 2000\n") and chunks[0].endswith(
        "event: position\nid: 1\ndata: 1\n\n")
    assert ": still here\n\n" in chunks[1:]  # a comment: EventSource ignores it


def test_the_log_is_read_once_per_poll_however_many_listen(sqlite_store) -> None:
    watch = LogWatch(sqlite_store, poll=60)
    assert watch.newest() == 0
    _add(sqlite_store, "one")
    assert watch.newest() == 0  # read less than a poll ago: not read again
    watch.poll = 0
    assert watch.newest() == 1
