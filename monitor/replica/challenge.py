"""gov.kz's bot challenge, as the replica plays it.

v1: `POST /api/v1/public/_/c/k6` sets a cookie that news requests must carry; like
the portal's own page, a client must post it as JSON (`Content-Type:
application/json`) with an `Origin`, or it is refused.
v2: `POST /api/v2/_/c/k6` with body `{}` answers the header pair `hash` and `token`
that news requests must send back. In v2 mode the v1 endpoint still answers and sets
a cookie, which is no longer honoured — so a client must notice and move on to v2.
With `client_headers` on (the default), news requests must also carry a `Referer`
on the site, as working clients' do.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading

from monitor.replica.server import Reply, Request

V1_PATH = "/api/v1/public/_/c/k6"
V2_PATH = "/api/v2/_/c/k6"
COOKIE = "k6"
_KEY_HEADER = "token"
_SIGN_HEADER = "hash"
VERSIONS = ("v1", "v2", None)


def _sign(token: str) -> str:
    return hashlib.sha256(f"replica:{token}".encode()).hexdigest()[:24]


class ChallengeGate:
    """Issues tokens, admits requests that carry a live one; tokens can be expired."""

    def __init__(self, version: str | None = "v1", *, client_headers: bool = True) -> None:
        if version not in VERSIONS:
            raise ValueError(f"challenge must be one of {VERSIONS}, not {version!r}")
        self.version = version
        self.broken = False  # the challenge endpoints themselves answer 500
        self.client_headers = client_headers
        self._lock = threading.Lock()
        self._live: set[str] = set()

    def expire(self) -> None:
        """Every token issued so far stops working."""
        with self._lock:
            self._live.clear()

    def admits(self, request: Request, site: str) -> bool:
        """Whether a news request from a client of `site` (scheme://host:port) may pass."""
        if self.version is None:
            return True
        if self.client_headers and not request.header("referer").startswith(site + "/"):
            return False
        with self._lock:
            if self.version == "v1":
                return request.cookies.get(COOKIE, "") in self._live
            token = request.header(_KEY_HEADER)
            return token in self._live and request.header(_SIGN_HEADER) == _sign(token)

    def answer(self, request: Request, site: str) -> Reply | None:
        """The reply for a challenge endpoint, or None when `request` is not one."""
        if request.path not in (V1_PATH, V2_PATH):
            return None
        if request.method != "POST":
            return Reply.json(405, {"error": "methodNotAllowed"})
        if self.broken:
            return Reply.json(500, {"error": "internalServerError"})
        if request.path == V1_PATH:
            if self.client_headers and not _posted_like_the_page(request, site):
                return Reply.json(403, {"message": "notAllowed"})
            return self._answer_v1()
        return self._answer_v2(request)

    def _issue(self, *, honoured: bool) -> str:
        token = secrets.token_hex(16)
        if honoured:
            with self._lock:
                self._live.add(token)
        return token

    def _answer_v1(self) -> Reply:
        token = self._issue(honoured=self.version == "v1")
        reply = Reply.json(200, {"status": "ok"})
        reply.headers.append(("Set-Cookie", f"{COOKIE}={token}; Path=/; HttpOnly"))
        return reply

    def _answer_v2(self, request: Request) -> Reply:
        if self.version == "v1":
            return Reply.json(404, {"error": "notFound"})
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return Reply.json(400, {"error": "badRequest"})
        token = self._issue(honoured=self.version == "v2")
        return Reply.json(200, {_KEY_HEADER: token, _SIGN_HEADER: _sign(token)})


def _posted_like_the_page(request: Request, site: str) -> bool:
    """The v1 POST as the portal's page sends it: JSON, from its own origin."""
    content_type = request.header("content-type").split(";")[0].strip().lower()
    return content_type == "application/json" and request.header("origin") == site
