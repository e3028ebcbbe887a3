"""A real HTTP server on 127.0.0.1 in a background thread, for tests, the demo and benchmarks.

A subclass answers `handle(request) -> Reply`. This module owns the socket and the
thread, counts requests, tracks how many are in flight (overall and per Host header,
so politeness can be checked) and can slow every answer down.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    cookies: Mapping[str, str]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, data: Any) -> Reply:
        try:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: JSON can carry it escaped, UTF-8 cannot
            body = json.dumps(data).encode("ascii")
        return cls(status, body, "application/json; charset=utf-8")

    @classmethod
    def html(cls, status: int, text: str, charset: str = "utf-8") -> Reply:
        return cls(status, text.encode(charset), f"text/html; charset={charset}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The listen backlog. socketserver's default is 5: when a client opens 16
    # connections at once, the kernel drops the SYNs past it and the client resends
    # them a second later, a stall no real web server (nginx: 511) would cause.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: ReplicaServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._track_connection(self.connection, open_=True)

    def finish(self) -> None:
        self.server.owner._track_connection(self.connection, open_=False)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self, *, with_body: bool = True) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            cookies=_cookies(self.headers.get("Cookie", "")),
        )
        reply = self.server.owner._dispatch(request)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(reply.body)


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


class ReplicaServer(ABC):
    """Start, stop, count. Subclasses implement `handle`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stats = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._delay = 0.0
        self._request_count = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._in_flight_by_host: dict[str, int] = {}
        self._max_in_flight_by_host: dict[str, int] = {}
        self._log: deque[tuple[str, str, str]] = deque(maxlen=100_000)

    @abstractmethod
    def handle(self, request: Request) -> Reply:
        """Answer one request (called from the server's threads)."""

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for one poll
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._stats:
            open_connections = list(self._connections)
        for connection in open_connections:  # keep-alive clients must not be served after stop
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the replica server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- observation and control ---------------------------------------------------

    def set_delay(self, seconds: float) -> None:
        """Every answer waits this long before it is sent (0 for none)."""
        self._delay = max(0.0, float(seconds))

    @property
    def request_count(self) -> int:
        with self._stats:
            return self._request_count

    @property
    def max_in_flight(self) -> int:
        with self._stats:
            return self._max_in_flight

    @property
    def max_in_flight_by_host(self) -> dict[str, int]:
        """Highest number of concurrent requests seen per Host header value."""
        with self._stats:
            return dict(self._max_in_flight_by_host)

    def requests_seen(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests (of a method, under a path prefix) were answered so far."""
        with self._stats:
            return sum(
                1
                for m, path, _host in self._log
                if (method is None or m == method) and path.startswith(path_prefix)
            )

    def reset_stats(self) -> None:
        with self._stats:
            self._request_count = 0
            self._max_in_flight = self._in_flight
            self._max_in_flight_by_host = dict(self._in_flight_by_host)
            self._log.clear()

    # -- internals -----------------------------------------------------------------

    def _track_connection(self, connection: socket.socket, *, open_: bool) -> None:
        with self._stats:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _dispatch(self, request: Request) -> Reply:
        host = request.header("host")
        with self._stats:
            self._request_count += 1
            self._log.append((request.method, request.path, host))
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            now = self._in_flight_by_host.get(host, 0) + 1
            self._in_flight_by_host[host] = now
            self._max_in_flight_by_host[host] = max(self._max_in_flight_by_host.get(host, 0), now)
        try:
            if self._delay:
                time.sleep(self._delay)
            try:
                return self.handle(request)
            except Exception as exc:  # a replica bug must show as a 500, not a hang
                return Reply.json(500, {"error": "replicaError", "detail": repr(exc)})
        finally:
            with self._stats:
                self._in_flight -= 1
                self._in_flight_by_host[host] -= 1
