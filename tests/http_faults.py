"""A real HTTP server on 127.0.0.1 that misbehaves on demand, for fetch tests.

Program it with routes: a path answers a sequence of `Reply`s (the last one repeats),
or a function of the request. It records every request it saw, how many were in
flight at once, and whether a streamed body was cut off by the client.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """One answer. `delay` keeps the request in flight before anything is sent."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: int = 0  # send this many bytes instead of `body`, with no Content-Length
    reason: str | None = None  # the reason phrase, instead of the status's usual one
    trickle: float = 0.0  # send `body` one byte every this many seconds (headers at once)

    @classmethod
    def page(cls, body: str | bytes, content_type: str = "text/html; charset=utf-8",
             status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return cls(status, data, {"Content-Type": content_type, **(headers or {})})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, b"", {"Location": location})


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: Mapping[str, str]  # keys lowercased
    body: bytes
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Streamed:
    """How a streamed body ended."""

    sent: int = 0
    aborted: bool = False  # the client closed the connection before the end
    done: threading.Event = field(default_factory=threading.Event)


Route = Callable[[Seen], Reply]


def conditional(etag: str, reply: Reply) -> Route:
    """Answers 304 when the request's If-None-Match names `etag`, else `reply` with it."""

    def answer(request: Seen) -> Reply:
        if request.header("If-None-Match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(reply.status, reply.body, {**reply.headers, "ETag": etag})

    return answer


def self_signed_certificate(directory: Path, name: str = "IP:127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `name` (a subjectAltName: IP:… or DNS:…) signed by itself, made
    with the openssl CLI: (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={name.partition(':')[2]}",
         "-addext", f"subjectAltName={name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class FaultServer:
    """ThreadingHTTPServer on 127.0.0.1:0 in a background thread; use as a context manager.

    With `certificate` (cert, key) it speaks HTTPS instead. `host` and `port`: where it
    listens (any loopback address; port 0 picks a free one).
    """

    def __init__(self, certificate: tuple[Path, Path] | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.seen: list[Seen] = []
        self.errors: list[BaseException] = []  # raised while serving (e.g. refused handshakes)
        self.streams: list[Streamed] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.host = host
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.handle_error = self._record_error  # type: ignore[method-assign]
        self.scheme = "http"
        if certificate:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def route(self, path: str, *replies: Reply | Route) -> None:
        """`path` answers these replies in turn (the last repeats), or one route function."""
        if len(replies) == 1 and callable(replies[0]):
            self._routes[path] = replies[0]
            return
        queue = [r for r in replies if isinstance(r, Reply)]
        taken = 0

        def next_reply(_: Seen) -> Reply:
            nonlocal taken
            with self._lock:
                reply = queue[min(taken, len(queue) - 1)]
                taken += 1
            return reply

        self._routes[path] = next_reply

    def wait_for_errors(self, count: int, timeout: float = 5.0) -> list[BaseException]:
        """The serving errors, once there are `count` of them (or `timeout` has passed)."""
        deadline = time.monotonic() + timeout
        while len(self.errors) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            return list(self.errors)

    def hits(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _record_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            with self._lock:
                self.errors.append(error)

    def _answer(self, request: Seen) -> Reply:
        with self._lock:
            self.seen.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            route = self._routes.get(request.path.split("?")[0])
            reply = route(request) if route else Reply.page("no such route", "text/plain", 404)
            if reply.delay:
                self._stopping.wait(reply.delay)
            return reply
        finally:  # counted out before the answer is written: the client cannot be done yet
            with self._lock:
                self._in_flight -= 1

    def _stream(self, out: Callable[[bytes], object], total: int, body: bytes = b"",
                pause: float = 0.0) -> None:
        """Send `total` bytes of filler, or `body` a byte at a time `pause` seconds apart."""
        record = Streamed()
        with self._lock:
            self.streams.append(record)
        chunk = b"<p>" + b"x" * (_CHUNK - 3)
        try:
            while record.sent < total and not self._stopping.is_set():
                part = body[record.sent:record.sent + 1] if pause else chunk[: total - record.sent]
                out(part)
                record.sent += len(part)
                if pause:
                    self._stopping.wait(pause)
        except OSError:  # broken pipe / reset: the client hung up
            record.aborted = True
        finally:
            record.done.set()


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5  # idle keep-alive connections do not outlive a test for long

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.command, self.path, headers, body, time.monotonic())
            reply = server._answer(seen)
            try:
                self._send(reply)
            except OSError:
                self.close_connection = True

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status, reply.reason)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.trickle:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.close_connection = True

                def out(data: bytes) -> None:
                    self.wfile.write(data)
                    self.wfile.flush()

                server._stream(out, len(reply.body), reply.body, reply.trickle)
                return
            if reply.stream:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                server._stream(self.wfile.write, reply.stream)
                return
            if reply.status not in (204, 304) and "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status not in (204, 304):
                self.wfile.write(reply.body)

    return Handler
