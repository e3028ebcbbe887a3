"""The `webhook` channel: a signed JSON POST."""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import urlsplit

import requests

from monitor import __version__
from monitor.alerts import digest
from monitor.alerts.alert import Alert, payload
from monitor.alerts.channels.base import Channel, DeliveryFailed, Shown, redacted_url
from monitor.alerts.settings import Settings, secret
from monitor.alerts.signing import secret_key, signature
from monitor.errors import ConfigError

RETRYABLE_CLIENT_ERRORS = (408, 429)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class Webhook(Channel):
    """POST each alert as JSON, signed per the Standard Webhooks convention.

    url         http(s) URL to POST to (this or url_env)
    url_env     environment variable holding the URL, for one that carries a
                password (user:password@) or a token
    secret_env  environment variable holding the signing secret, "whsec_" +
                base64 (a secret without the prefix is used as raw bytes; required)
    timeout     how long to wait for the receiver (default 10s)

    Headers: webhook-id (the alert id, the same on every retry: de-duplicate on
    it), webhook-timestamp (Unix seconds), webhook-signature ("v1," + base64
    HMAC-SHA256 of "id.timestamp.body"). A 2xx answer delivers the alert; 408,
    429, 5xx, timeouts and refused connections are retried later; any other
    answer (e.g. 410 Gone) dead-letters it at once. The JSON body is described
    in monitor/alerts/README.md.
    """

    kind = "webhook"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.url = settings.text("url")
        self.url_env = settings.env_name("url_env")
        if bool(self.url) == bool(self.url_env):
            raise settings.fail("url", "set exactly one of url and url_env")
        if self.url and (problem := _url_problem(self.url)):
            raise settings.fail("url", problem)
        # Receivers often take a token in the path (/hooks/T0K3N): messages show the
        # scheme and host only, and whatever else may quote the URL is scrubbed.
        self.shown_url = redacted_url(self.url) if self.url else f"${self.url_env}"
        self._secrets = _secret_parts(self.url) if self.url else []
        self.secret_env = settings.env_name("secret_env", required=True)
        self.timeout = settings.duration("timeout", 10.0)

    @property
    def target(self) -> str:
        return self.shown_url

    def shown(self) -> list[Shown]:
        where = (Shown("url", self.shown_url) if self.url
                 else Shown.secret("url_env", self.url_env))
        return [where, Shown.secret("secret_env", self.secret_env),
                Shown("timeout", f"{self.timeout:g}s")]

    def _key(self) -> bytes:
        assert self.secret_env is not None
        try:
            return secret_key(secret(self.where, self.secret_env))
        except ValueError as exc:
            raise ConfigError(f"{self.where}: {self.secret_env}: {exc}") from None

    def send(self, alert: Alert) -> str:
        return self._post(alert.id, payload(alert))

    def send_digest(self, bundle: digest.Digest) -> str:
        return self._post(bundle.id, digest.payload(bundle))

    def _target(self) -> str:
        """The URL to POST to; one read from url_env is checked when it is read."""
        if self.url:
            return self.url
        url = secret(self.where, str(self.url_env))
        if problem := _url_problem(url):
            raise ConfigError(f"{self.where}: {self.url_env}: {problem}")
        return url

    def _post(self, ident: str, content: dict[str, object]) -> str:
        key = self._key()
        url = self._target()
        shown = redacted_url(url)
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": f"govkz-monitor/{__version__}",
            "webhook-id": ident,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, ident, timestamp, body),
        }
        try:
            with requests.post(url, data=body, headers=headers, timeout=self.timeout,
                               allow_redirects=False, stream=True) as answer:
                said = self.scrub(_said(answer))  # a receiver may echo the URL back
        except requests.Timeout:
            raise DeliveryFailed(f"{shown}: no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise DeliveryFailed(f"{shown}: cannot connect ({_reason(exc)})") from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{shown}: {type(exc).__name__}") from None
        return _judge(shown, answer.status_code, said, answer.headers.get("retry-after"))

    def scrub(self, message: str) -> str:
        found = os.environ.get(self.url_env) if self.url_env else None
        for part in _secret_parts(found) if found else self._secrets:
            message = message.replace(part, "…")
        return message


def _judge(url: str, status: int, said: str, retry_after: str | None) -> str:
    if 200 <= status < 300:
        return f"HTTP {status}"
    message = f"{url} answered HTTP {status}" + (f": {said}" if said else "")
    if status in RETRYABLE_CLIENT_ERRORS or status >= 500:
        raise DeliveryFailed(message, retry_after=_seconds(retry_after))
    if 300 <= status < 400:
        message += " (redirects are not followed: configure the final URL)"
    raise DeliveryFailed(message, permanent=True)


def _said(answer: requests.Response) -> str:
    """The start of the answer's body, as one short line (it is the receiver's text)."""
    try:
        start = next(answer.iter_content(300), b"")
    except requests.RequestException:
        return ""
    return _one_line(start.decode("utf-8", "replace"))[:200]


def _url_problem(url: str) -> str | None:
    if not re.match(r"^https?://[^/\s]+", url) or _invalid(url):
        return (f"{redacted_url(url)!r} is not an http(s) URL with a valid host "
                "(and port, 1 to 65535)")
    return None


def _invalid(url: str) -> bool:
    """Whether `url` cannot be sent to: no host, or a port out of range."""
    try:
        parts = urlsplit(url)
        return not parts.hostname or parts.port == 0
    except ValueError:
        return True


def _secret_parts(url: str) -> list[str]:
    """What of `url` must not appear in a message: the URL, its path and query, and
    each part of them long enough to be a token; longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    pieces = {url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path,
              parts.query, parts.netloc.rpartition("@")[0]}
    pieces.update(p for p in re.split(r"[/?&=#;:@]", f"{parts.path}?{parts.query}")
                  if len(p) >= 8)
    return sorted((p for p in pieces if p.strip("/")), key=len, reverse=True)


def _reason(exc: requests.ConnectionError) -> str:
    """The innermost cause, e.g. 'Connection refused', without the URL in it."""
    cause: BaseException = exc
    while cause.__context__ is not None or cause.__cause__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = _one_line(str(cause))
    for known in ("Connection refused", "Name or service not known", "No route to host",
                  "Connection reset", "certificate verify failed"):
        if known.lower() in text.lower():
            return known
    return type(cause).__name__


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _seconds(retry_after: str | None) -> float | None:
    if retry_after and retry_after.strip().isascii() and retry_after.strip().isdigit():
        return float(retry_after.strip())
    return None
