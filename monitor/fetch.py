"""HTTP for every source: one pooled session, polite to each host, strict about answers.

Every failure leaves this module as `FetchFailed` with a kind (see monitor.errors), so
a check can record why a page could not be read instead of mistaking it for a change.
"""

from __future__ import annotations

import json as jsonlib
import os
import threading
import time
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from requests.cookies import RequestsCookieJar, merge_cookies
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.exceptions import LocationValueError

from monitor import __version__, trace
from monitor.addresses import AddressBlocked, AddressPolicy, private_networks_allowed
from monitor.content import (
    UndecodableText,
    decode,
    is_binary_type,
    looks_binary,
    mime_matches,
    parse_content_type,
)
from monitor.errors import ConfigError, FetchFailed
from monitor.fetch_failures import blocked, failure
from monitor.netguard import GuardedAdapter, fetch_scope
from monitor.politeness import RETRY_STATUSES, HostGate, PoliteRetry
from monitor.sources.base import Validators

PROJECT_URL = "https://github.com/govkz-monitor"
_RETRY_METHODS = frozenset({"GET", "POST"})  # POST: gov.kz's challenge answer
_HOST_POOLS = 32  # connection pools kept; one per host
_CHUNK = 64 * 1024


def user_agent(contact: str | None = None) -> str:
    """The User-Agent we announce, naming the project and whom to contact."""
    details = f"+{PROJECT_URL}"
    if contact:
        details += f"; contact: {contact}"
    return f"govkz-monitor/{__version__} ({details})"


USER_AGENT = user_agent()


@dataclass(frozen=True)
class FetchSettings:
    contact: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 3  # on connection errors, 429, 500, 502, 503, 504 (not read timeouts, TLS)
    backoff_factor: float = 0.5
    max_retry_after: float = 120.0  # a longer Retry-After is not waited for: FetchFailed
    max_redirects: int = 10
    max_concurrent_per_host: int = 2
    min_delay_per_host: float = 1.0  # seconds between request starts to one host
    ca_bundle: str | None = None  # path; TLS verification is never turned off
    # One fetch, all of it: connect, every redirect hop, the body. Read timeouts alone
    # let a server that trickles bytes hold a check for as long as it likes.
    deadline: float = 60.0
    # Loopback, private, link-local and metadata addresses (see monitor.addresses);
    # unless given, what MONITOR_ALLOW_PRIVATE_NETWORKS says.
    allow_private_networks: bool = field(default_factory=private_networks_allowed)

    def __post_init__(self) -> None:
        if self.contact is not None and not (self.contact.isascii() and self.contact.isprintable()):
            raise ConfigError(f"fetch contact {self.contact!r} must be printable ASCII")
        if min(self.connect_timeout, self.read_timeout, self.max_bytes, self.deadline) <= 0:
            raise ConfigError("fetch timeouts, deadline and max_bytes must be positive")
        if min(self.retries, self.backoff_factor, self.max_retry_after, self.max_redirects,
               self.min_delay_per_host) < 0 or self.max_concurrent_per_host < 1:
            raise ConfigError("fetch retry, redirect and politeness settings must not be negative")


@dataclass(frozen=True)
class Response:
    """One answer, body fully read (or empty for a 304)."""

    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    content_type: str  # mime type only, lowercased
    charset: str | None = None  # from the HTTP header
    redirects: tuple[str, ...] = ()  # each URL that answered with a redirect, in order
    elapsed_ms: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> Validators:
        """ETag / Last-Modified of this answer (a 304 may omit them: keep the old ones)."""
        return Validators(self.headers.get("ETag"), self.headers.get("Last-Modified"))

    def text(self) -> str:
        try:
            return decode(self.content, self.charset)
        except UndecodableText as exc:
            raise FetchFailed("encoding", f"{self.url}: {exc}", status=self.status) from exc

    def json(self) -> Any:
        try:
            body = self.content.decode(self.charset) if self.charset else self.content
            return jsonlib.loads(body)
        except (LookupError, UnicodeDecodeError) as exc:
            raise FetchFailed("encoding", f"{self.url}: JSON body does not decode: {exc}",
                              status=self.status) from exc
        except ValueError as exc:
            raise FetchFailed("parse", f"{self.url}: body is not JSON ({exc})",
                              status=self.status) from exc


class Fetcher:
    """Fetches pages for all sources; thread-safe, share one per process."""

    def __init__(self, settings: FetchSettings | None = None, *,
                 addresses: AddressPolicy | None = None) -> None:
        """`addresses`: where connections may go (default: as the settings say)."""
        settings = settings or FetchSettings()
        self.settings = settings
        self.addresses = addresses or AddressPolicy(
            allow_private=settings.allow_private_networks)
        self._retry = PoliteRetry(
            total=settings.retries,
            backoff_factor=settings.backoff_factor,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=_RETRY_METHODS,
            respect_retry_after_header=True,
            raise_on_status=False,  # hand back the last answer; we classify it
            max_retry_after=settings.max_retry_after,
        )
        adapter = GuardedAdapter(pool_connections=_HOST_POOLS,
                                 pool_maxsize=settings.max_concurrent_per_host,
                                 max_retries=self._retry)
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent(settings.contact)
        self.session.max_redirects = settings.max_redirects
        # requests re-reads proxy variables, CA-bundle variables and ~/.netrc from
        # the environment on every request (a tenth of a check's CPU); read them once.
        self.session.trust_env = False
        self._env_proxies = bool(urllib.request.getproxies())
        self._env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
            "CURL_CA_BUNDLE") or None
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()

    def get(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain"),
        allow_status: Collection[int] = (),
        ca_bundle: str | None = None,
    ) -> Response:
        """GET `url`, conditionally when `validators` are given. Raises FetchFailed."""
        conditional: dict[str, str] = {}
        if validators and validators.etag:
            conditional["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            conditional["If-Modified-Since"] = validators.last_modified
        return self._request("GET", url, {**conditional, **(headers or {})}, accept,
                             allow_status, ca_bundle)

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[str, ...] = ("application/json",),
        allow_status: Collection[int] = (),
        ca_bundle: str | None = None,
    ) -> Response:
        """POST a JSON body to `url`. Raises FetchFailed."""
        return self._request("POST", url, dict(headers or {}), accept, allow_status, ca_bundle,
                             json_body=json)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _gate(self, url: str) -> HostGate:
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme, parts.hostname
        except ValueError:  # e.g. a broken IPv6 literal
            scheme, host = "", None
        if scheme not in ("http", "https") or not host:
            raise FetchFailed("invalid_url", f"invalid URL {url!r}: need http(s)://host/…")
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = HostGate(self.settings.max_concurrent_per_host,
                                                     self.settings.min_delay_per_host)
            return gate

    def _request(self, method: str, url: str, headers: dict[str, str], accept: tuple[str, ...],
                 allow_status: Collection[int], ca_bundle: str | None,
                 json_body: Any = None) -> Response:
        s = self.settings
        bundle = ca_bundle or s.ca_bundle or self._env_bundle
        if bundle and not os.path.exists(bundle):
            raise FetchFailed("tls", f"{url}: CA bundle {bundle!r} does not exist")
        # The deadline starts once the host's slot is ours: waiting for politeness
        # is not the server's slowness.
        with self._gate(url).slot(), fetch_scope(self.addresses, s.deadline):
            started = time.monotonic()
            try:
                answer = self.session.send(
                    self._prepare(method, url, {"Accept": ", ".join(accept), **headers},
                                  json_body),
                    stream=True, timeout=(s.connect_timeout, s.read_timeout),
                    verify=bundle or True, cert=None, allow_redirects=True,
                    proxies=get_environ_proxies(url) if self._env_proxies else {})
            except (requests.RequestException, LocationValueError) as exc:
                raise failure(url, exc, s) from exc
            except AddressBlocked as exc:
                raise blocked(url, exc) from None
            with answer:
                return self._read(answer, accept, allow_status, started)

    def _prepare(self, method: str, url: str, headers: dict[str, str],
                 json_body: Any) -> requests.PreparedRequest:
        """The request `Session.request` would prepare, without its general machinery.

        Session.request merges per-request settings into the session's (params, auth,
        hooks, proxies, environment) through generic, type-checked helpers, a fifth of
        a GET's CPU; this session sets none of them but headers and cookies, which are
        merged here as it merges them: the session's headers, overridden
        case-insensitively by this request's (None removes one), and a copy of the
        session's cookies. `Session.send` still stores the answer's cookies and follows
        redirects."""
        session = self.session
        merged = CaseInsensitiveDict(session.headers)
        merged.update(headers)
        for name in [name for name, value in merged.items() if value is None]:
            del merged[name]
        jar = session.cookies
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method.upper(), url=url, headers=merged, json=json_body,
                         cookies=merge_cookies(RequestsCookieJar(), jar) if len(jar) else None)
        return prepared

    def _read(self, answer: requests.Response, accept: tuple[str, ...],
              allow_status: Collection[int], started: float) -> Response:
        status, url = answer.status_code, answer.url
        content_type, charset = parse_content_type(answer.headers.get("Content-Type", ""))
        if status != 304 and status not in allow_status and (
            refusal := self._status_failure(answer)
        ):
            raise refusal
        content = self._body(answer)  # a 304 has none; reading it frees the connection
        if status == 304:
            content = b""
        elif 200 <= status < 300:
            _check_body(url, status, content, content_type, charset, accept)
        trace.answered(status, content)
        return Response(url=url, status=status, headers=answer.headers,  # a fresh dict per answer
                        content=content, content_type=content_type, charset=charset,
                        redirects=tuple(hop.url for hop in answer.history),
                        elapsed_ms=round((time.monotonic() - started) * 1000))

    def _status_failure(self, answer: requests.Response) -> FetchFailed | None:
        status = answer.status_code
        if 200 <= status < 300:
            return None
        said = f"{answer.url} answered {status} {answer.reason or ''}".rstrip()
        if wait := self._retry.waits_too_long(answer.raw):
            return FetchFailed("rate_limited", f"{said}, asking to wait {wait:.0f} s (more than "
                               f"{self.settings.max_retry_after:g} s)", status=status)
        retried = len(getattr(answer.raw.retries, "history", ()))
        if retried:
            said += f" after {retried} {'retry' if retried == 1 else 'retries'}"
        return status_failure(answer.url, status, said)

    def _body(self, answer: requests.Response) -> bytes:
        cap = self.settings.max_bytes
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchFailed("too_large", f"{answer.url}: Content-Length {_size(int(declared))}"
                              f" is larger than {_size(cap)} cap", status=answer.status_code)
        body = bytearray()
        try:
            for chunk in answer.iter_content(chunk_size=_CHUNK):
                body += chunk
                if len(body) > cap:  # stop reading; closing the answer drops the connection
                    raise FetchFailed("too_large", f"{answer.url}: response body larger than "
                                      f"{_size(cap)} cap", status=answer.status_code)
        except (requests.RequestException, OSError) as exc:
            raise failure(answer.url, exc, self.settings) from exc
        return bytes(body)


def status_failure(url: str, status: int, said: str) -> FetchFailed:
    """The failure a non-2xx answer is (`said` tells it): a 404/410 `not_found` with the
    evidence a removal is judged by, a 429 `rate_limited`, else a server or HTTP error.
    The plain fetch and the browser's main document (monitor.render) both judge by it."""
    if status in (404, 410):
        return FetchFailed("not_found", said, status=status,
                           evidence={"final_url": url, "status": status})
    if status == 429:
        return FetchFailed("rate_limited", said, status=status)
    return FetchFailed("server_error" if status >= 500 else "http_error", said, status=status)


def _check_body(url: str, status: int, content: bytes, content_type: str,
                charset: str | None, accept: tuple[str, ...]) -> None:
    if not content:
        raise FetchFailed("empty", f"{url} answered {status} with an empty body", status=status)
    # No Content-Type at all is common on old servers; judge those by their bytes.
    accepted = not content_type or any(mime_matches(content_type, p) for p in accept)
    if accepted and (is_binary_type(content_type) or all(map(is_binary_type, accept))):
        return  # the caller asked for this binary type, or for a file whatever its label
    if is_binary_type(content_type) or looks_binary(content, charset):
        raise FetchFailed("binary", f"{url} sent a binary body ({content_type or 'untyped'}),"
                          " not a text document", status=status)
    if not accepted:
        raise FetchFailed("content_type", f"{url} sent {content_type}, expected "
                          f"{' or '.join(accept)}", status=status)


def _size(n: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
