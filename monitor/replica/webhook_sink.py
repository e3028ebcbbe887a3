"""A webhook receiver on 127.0.0.1: what a user's endpoint does, for tests and the demo.

It checks every POST's Standard Webhooks signature with the shared secret (its
own implementation, independent of monitor.alerts.signing) and records the
accepted ones as (webhook-id, body). It can be told to answer the next N
requests with an error, to answer one status for good (410), or to be down
(connection refused) and come back on the same port. POSTs under /plain are
recorded unsigned (what Apprise's json:// sends).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A secret for tests and the demo only.
SECRET = "whsec_" + base64.b64encode(b"test secret for the alert receiver").decode()
TOLERANCE = 300  # seconds a timestamp may be off, as the convention recommends


def verify(secret: str, headers: Mapping[str, str], body: bytes,
           now: float | None = None) -> bool:
    """Does the request carry a valid, fresh v1 signature of exactly this body?"""
    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp = lower.get("webhook-id"), lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature", "")
    if not msg_id or not stamp or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE:
        return False
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    return any(version == "v1" and hmac.compare_digest(value, expected)
               for version, _, value in (s.partition(",") for s in signatures.split()))


@dataclass(frozen=True)
class Received:
    webhook_id: str
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    # How often the serving thread looks for a stop: each stop waits for one look.
    # The standard library's 0.5 s; the tests set it shorter (tests/conftest.py).
    poll_interval = 0.5

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.plain: list[bytes] = []
        self.rejected = 0  # bad signatures
        self.requests = 0
        self.delay = 0.0  # seconds each accepted request is held, to make senders overlap
        self._fail_next: list[int] = []
        self._always: int | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def plain_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/plain"

    def ids(self) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.received]

    def fail_next(self, times: int, status: int = 500) -> None:
        with self._lock:
            self._fail_next.extend([status] * times)

    def answer_always(self, status: int | None) -> None:
        with self._lock:
            self._always = status

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(self.poll_interval,),
                         daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused until `up()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        with self._lock:
            self.requests += 1
            if self._fail_next:
                return self._fail_next.pop(0)
            if self._always is not None:
                return self._always
            if path.startswith("/plain"):
                self.plain.append(body)
                return 200
            if not verify(self.secret, headers, body):
                self.rejected += 1
                return 401
            self.received.append(Received(headers["webhook-id"], body, headers))
            return 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._answer(self.path, headers, body)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
