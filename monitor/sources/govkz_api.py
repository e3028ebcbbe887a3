"""gov.kz's content-manager JSON API, and the bot challenge in front of it.

The news endpoints refuse a client that has not passed a challenge: a 400 or 403
whatever the body says (`{"error":"notAllowed"}`, `{"message":"notAllowed"}`, plain
`notAllowed` are all seen), so any such refusal starts the challenge. Version 1 is
`POST /api/v1/public/_/c/k6` (JSON, with `Origin`, as the portal's own page sends it),
which sets a cookie (kept by the fetcher's session); version 2 is `POST /api/v2/_/c/k6`
with `{}`, which answers header pairs (`hash` and `token`) to send on later requests
(kept here, per origin). Whichever passed last is tried first when the pass expires;
it is renewed once per request, and a request still refused after that is a
`challenge` failure, not a missing document. GETs carry a `Referer` on the origin,
as working clients' do. `passed_with` says which version is in force, for evidence.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.errors import FetchFailed
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.fetch import Fetcher, Response

V1_CHALLENGE = "/api/v1/public/_/c/k6"
V2_CHALLENGE = "/api/v2/_/c/k6"
_REFUSED_STATUSES = (400, 401, 403)
_JSON_POST = {"Content-Type": "application/json"}
# Also accepted so that a block page reaches us and is reported as `blocked`.
_ACCEPT = ("application/json", "text/html", "text/plain", "application/xhtml+xml")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass
class _Pass:
    """What one origin's challenge asked of us, last time it was passed."""

    method: str | None = None  # "v1" or "v2"
    headers: dict[str, str] = field(default_factory=dict)
    generation: int = 0  # bumped on every renewal, so racing threads renew once
    lock: threading.Lock = field(default_factory=threading.Lock)


class GovkzApi:
    """JSON reads from gov.kz that pass the bot challenge. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passes: dict[str, _Pass] = {}

    def get_json(
        self,
        fetcher: Fetcher,
        url: str,
        *,
        origin: str,
        language: str,
        ca_bundle: str | None = None,
    ) -> tuple[Any, Response]:
        """GET an API URL: (decoded JSON, response). Raises FetchFailed."""
        state = self._pass_for(origin)
        generation, headers = state.generation, dict(state.headers)
        answer, data = self._get(fetcher, url, language, headers, ca_bundle)
        if _refused(answer):
            answer, data = self._renew(fetcher, url, origin, language, generation, ca_bundle)
        return data, answer

    def passed_with(self, origin: str) -> str | None:
        """The challenge version ("v1" or "v2") passed last at `origin`; None when
        none was asked for."""
        return self._pass_for(origin).method

    def _pass_for(self, origin: str) -> _Pass:
        with self._lock:
            return self._passes.setdefault(origin, _Pass())

    def _renew(
        self,
        fetcher: Fetcher,
        url: str,
        origin: str,
        language: str,
        seen_generation: int,
        ca_bundle: str | None,
    ) -> tuple[Response, Any]:
        state = self._pass_for(origin)
        with state.lock:
            if state.generation != seen_generation:  # another thread renewed meanwhile
                answer, data = self._get(fetcher, url, language, state.headers, ca_bundle)
                if not _refused(answer):
                    return answer, data
            order = ("v2", "v1") if state.method == "v2" else ("v1", "v2")
            problems: list[str] = []
            for method in order:
                try:
                    headers = self._solve(method, fetcher, origin, ca_bundle)
                except FetchFailed as exc:
                    if exc.kind == "blocked":
                        raise
                    problems.append(f"{method}: {exc}")
                    continue
                answer, data = self._get(fetcher, url, language, headers, ca_bundle)
                if not _refused(answer):
                    state.method, state.headers = method, headers
                    state.generation += 1
                    return answer, data
                problems.append(f"{method}: passed, but the API still refused "
                                f"({answer.status} {_excerpt(data)})")
        raise FetchFailed(
            "challenge", f"gov.kz bot challenge at {origin} failed ({'; '.join(problems)})"
        )

    def _solve(
        self, method: str, fetcher: Fetcher, origin: str, ca_bundle: str | None
    ) -> dict[str, str]:
        """Pass one version of the challenge; the headers later requests must carry."""
        posted = {**_JSON_POST, "Origin": origin, "Referer": origin + "/"}
        if method == "v1":
            answer = fetcher.post(origin + V1_CHALLENGE, json={}, headers=posted,
                                  accept=_ACCEPT, ca_bundle=ca_bundle)
            _reject_html(answer)
            return {}  # the cookie it set lives in the fetcher's session
        answer = fetcher.post(origin + V2_CHALLENGE, json={}, headers=posted, accept=_ACCEPT,
                              ca_bundle=ca_bundle)
        _reject_html(answer)
        pairs = answer.json()
        if not isinstance(pairs, dict):
            raise FetchFailed("challenge", f"{answer.url} answered no key/value object")
        headers = {
            str(name): str(value)
            for name, value in pairs.items()
            if _HEADER_NAME.match(str(name)) and not set(str(value)) & {"\r", "\n", "\0"}
        }
        if not headers:
            raise FetchFailed("challenge", f"{answer.url} answered no usable header pairs")
        return headers

    def _get(
        self,
        fetcher: Fetcher,
        url: str,
        language: str,
        headers: dict[str, str],
        ca_bundle: str | None,
    ) -> tuple[Response, Any]:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        answer = fetcher.get(
            url,
            headers={**headers, "Accept-Language": language, "Referer": origin + "/"},
            accept=_ACCEPT,
            allow_status=_REFUSED_STATUSES,
            ca_bundle=ca_bundle,
        )
        if _refused(answer) and not _looks_html(answer):
            return answer, _body(answer)  # a refusal, whatever it says: pass the challenge
        _reject_html(answer)
        data = answer.json()
        if isinstance(data, dict) and data.get("error") == "notFound":
            raise FetchFailed("not_found", f"{url} answered notFound", status=answer.status)
        return answer, data


def _refused(answer: Response) -> bool:
    return answer.status in _REFUSED_STATUSES


def _body(answer: Response) -> Any:
    """A refusal's body: JSON when it is, else its text (for the error message)."""
    try:
        return answer.json()
    except (FetchFailed, ValueError):
        return answer.content[:200].decode("utf-8", "replace")


def _excerpt(data: Any) -> str:
    return one_line(str(data), 120)


def _looks_html(answer: Response) -> bool:
    return answer.content.lstrip()[:1] == b"<" or "html" in answer.content_type


def _reject_html(answer: Response) -> None:
    """A page where JSON was expected is a block or CAPTCHA page."""
    if not answer.content_type.endswith("json") or _looks_html(answer):
        raise FetchFailed(
            "blocked",
            f"{answer.url} answered {answer.status} with "
            f"{answer.content_type or 'untyped content'} instead of JSON "
            "(a block or CAPTCHA page?)",
            status=answer.status,
        )
