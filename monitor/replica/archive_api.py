"""The Internet Archive's Save Page Now 2 API on 127.0.0.1, for tests and the demo.

The two calls the `wayback` channel makes, as the SPN2 API documents them:
POST /save (form field `url`, header `authorization: LOW access:secret`) answers
{"url", "job_id"}; GET /save/status/JOB answers {"status": "pending"} a set number
of times, then {"status": "success", "timestamp": YYYYMMDDhhmmss, "original_url"}
(or "error" with `status_ext` and `message` when told to fail the capture). GET
/save/status/user answers the account's free capture slots. A request without the
right keys gets 401; the next N requests can be answered with an HTTP error (429).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

ACCESS_KEY = "test-access-key"  # keys for tests and the demo only
SECRET_KEY = "test-secret-key"


@dataclass(frozen=True)
class CaptureRequest:
    url: str
    authorization: str
    job_id: str


@dataclass
class _Job:
    url: str
    polls_left: int
    fails: bool


class FakeArchive:
    # How often the serving thread looks for a stop: each stop waits for one look.
    # The standard library's 0.5 s; the tests set it shorter (tests/conftest.py).
    poll_interval = 0.5

    def __init__(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                 pending_polls: int = 1) -> None:
        self.expected = f"LOW {access_key}:{secret_key}"
        self.pending_polls = pending_polls  # "pending" answers before a job ends
        self.captures: list[CaptureRequest] = []  # accepted POST /save, in order
        self.requests = 0
        self.unauthorized = 0
        self.fail_captures = False  # jobs end in "error" instead of "success"
        self._fail_next: list[int] = []
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(self.poll_interval,),
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, times: int, status: int = 429) -> None:
        with self._lock:
            self._fail_next.extend([status] * times)

    def __enter__(self) -> FakeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self._fail_next:
                return self._fail_next.pop(0), {"message": "Too Many Requests"}
            authorization = headers.get("authorization", "")
            if authorization != self.expected:
                self.unauthorized += 1
                return 401, {"message": "You need to be logged in to use Save Page Now."}
            if method == "POST" and path == "/save":
                return self._capture(authorization, body)
            if method == "GET" and path == "/save/status/user":
                return 200, {"available": 5, "processing": len(self._jobs)}
            if method == "GET" and path.startswith("/save/status/"):
                return self._status(unquote(path.removeprefix("/save/status/")))
            return 404, {"message": "not found"}

    def _capture(self, authorization: str, body: bytes) -> tuple[int, dict[str, Any]]:
        url = (parse_qs(body.decode("utf-8", "replace")).get("url") or [""])[0]
        if not url.startswith(("http://", "https://")):
            return 400, {"status": "error", "status_ext": "error:invalid-url-syntax",
                         "message": "a URL is required"}
        job_id = "spn2-" + hashlib.sha1(f"{url}{len(self._jobs)}".encode()).hexdigest()
        self._jobs[job_id] = _Job(url, self.pending_polls, self.fail_captures)
        self.captures.append(CaptureRequest(url, authorization, job_id))
        return 200, {"url": url, "job_id": job_id}

    def _status(self, job_id: str) -> tuple[int, dict[str, Any]]:
        job = self._jobs.get(job_id)
        if job is None:
            return 200, {"status": "error", "status_ext": "error:not-found",
                         "message": f"no job {job_id}"}
        if job.polls_left > 0:
            job.polls_left -= 1
            return 200, {"status": "pending", "job_id": job_id}
        if job.fails:
            return 200, {"status": "error", "job_id": job_id,
                         "status_ext": "error:service-unavailable",
                         "message": "Your capture did not succeed. Please try again."}
        return 200, {"status": "success", "job_id": job_id, "original_url": job.url,
                     "timestamp": time.strftime("%Y%m%d%H%M%S", time.gmtime()),
                     "duration_sec": 0.1}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        archive = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = archive._answer(method, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._reply("POST")

            def do_GET(self) -> None:
                self._reply("GET")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
