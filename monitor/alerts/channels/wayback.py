"""The `wayback` channel: a public archive copy of every changed page."""

from __future__ import annotations

import json
import os
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests

from monitor import __version__
from monitor.alerts.alert import Alert
from monitor.alerts.channels.base import Channel, DeliveryFailed, Shown, redacted_url
from monitor.alerts.settings import Settings, secret
from monitor.changes.archives import record_copy, recorded_copy
from monitor.errors import PersistenceError
from monitor.events import ArchiveCopyRecorded
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.store import EventStore

DEFAULT_API = "https://web.archive.org"
ARCHIVED_KINDS = ("changed", "published")  # a removed page has nothing left to copy
RETRYABLE = (408, 429)
MAX_WAIT = 90.0  # a delivery is leased for 2 minutes: the wait must end well before
_TIMESTAMP = re.compile(r"^\d{14}$")
# A job id goes into a URL path, messages and the log: plain ASCII, no controls.
_JOB_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
MAX_ANSWER = 1024 * 1024  # bytes of one API answer: its JSON is a few hundred
# Kept as they are in the copied URL; anything else (quotes, <>, spaces, non-ASCII) is
# percent-encoded, so the recorded address is plain ASCII wherever it is shown.
URL_SAFE = ":/?#@!$&()*+,;=%~-._"


class Wayback(Channel):
    """Ask the Internet Archive's Save Page Now to copy the page of every change,
    and record where the copy is (an ArchiveCopyRecorded event in the document's
    log, shown in reports and in alerts sent after it).

    access_key_env  environment variable holding the archive.org S3 access key (required)
    secret_key_env  environment variable holding its secret (required)
    api_url         Save Page Now's address (default https://web.archive.org)
    timeout         how long to wait for one answer (default 30s)
    wait            how long to wait for the capture to finish (default 60s, at most 90s)
    poll            time between looks at the capture's status (default 5s)

    Only `changed` and `published` alerts are copied (the page at the change's URL;
    a publication's new document); other kinds are delivered without a request.
    A capture that fails, is refused for now (429, 5xx) or is still pending when
    `wait` runs out is tried again as any delivery is; nothing is recorded until
    the archive says it has the copy. `monitor alerts test` only asks the archive
    whether the keys are good, and copies nothing.
    """

    kind = "wayback"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.api_url = settings.text("api_url", DEFAULT_API).rstrip("/")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise settings.fail("api_url", f"{self.api_url!r} is not an http(s) address")
        self.access_key_env = settings.env_name("access_key_env", required=True)
        self.secret_key_env = settings.env_name("secret_key_env", required=True)
        self.timeout = settings.duration("timeout", 30.0)
        self.wait = settings.duration("wait", 60.0)
        if self.wait > MAX_WAIT:
            raise settings.fail("wait", f"at most {MAX_WAIT:g}s: a delivery is leased for "
                                "2 minutes, and a longer wait would let another "
                                "dispatcher ask again")
        self.poll = settings.duration("poll", 5.0)
        self.store: EventStore | None = None

    @property
    def target(self) -> str:
        return redacted_url(self.api_url)

    def shown(self) -> list[Shown]:
        return [Shown("api_url", self.target),
                Shown.secret("access_key_env", self.access_key_env),
                Shown.secret("secret_key_env", self.secret_key_env)]

    def attach(self, store: EventStore) -> None:
        self.store = store

    def _headers(self) -> dict[str, str]:
        assert self.access_key_env is not None and self.secret_key_env is not None
        access = secret(self.where, self.access_key_env)
        key = secret(self.where, self.secret_key_env)
        return {"accept": "application/json", "authorization": f"LOW {access}:{key}",
                "user-agent": f"govkz-monitor/{__version__}"}

    def scrub(self, message: str) -> str:
        for env in (self.access_key_env, self.secret_key_env):
            value = _env(env)
            if value and len(value) >= 4:
                message = message.replace(value, "…")
        return message

    def send(self, alert: Alert) -> str:
        if self.store is None:
            return self._check_keys()
        if alert.kind not in ARCHIVED_KINDS:
            return f"nothing to copy for a {alert.kind} alert"
        record = alert.record
        url = record.url if record is not None else alert.source_url
        stream_id = self._stream(alert.source_name)
        with self.store.engine.connect() as conn:
            known = recorded_copy(conn, stream_id, alert.event_id)
        if known:  # a retry after a crash between recording and the outbox's update
            return f"already copied: {known}"
        job = self._capture(url)
        stamp, original = self._finished(job, url)
        copy = ArchiveCopyRecorded(
            archive_url=f"{self.api_url}/web/{stamp}/{quote(original, safe=URL_SAFE)}", url=url,
            change_event_id=alert.event_id,
            document_version=(record.to_version.number
                              if record is not None and record.to_version else None),
            archived_at=stamp, archive=self.kind, channel=self.name, job_id=job)
        try:
            record_copy(self.store, stream_id, copy)
        except PersistenceError as exc:
            raise DeliveryFailed(f"copied at {copy.archive_url}, but recording it "
                                 f"failed: {exc}") from None
        return f"copied: {copy.archive_url}"

    def _stream(self, source_name: str) -> str:
        from monitor.store.queries import get_source

        assert self.store is not None
        return str(get_source(self.store.engine, source_name).stream_id)

    # --- the Save Page Now API ---------------------------------------------
    def _capture(self, url: str) -> str:
        """Ask for a capture; the archive's job id."""
        answer = self._request("POST", "/save", data={"url": url})
        job = answer.get("job_id")
        if isinstance(job, str) and job and not _JOB_ID.match(job):
            raise DeliveryFailed(f"{self.api_url} answered a job id that is not one "
                                 f"({one_line(job, 60)!r})")
        if not isinstance(job, str) or not job:
            said = one_line(str(answer.get("message") or answer.get("status_ext") or ""), 200)
            raise DeliveryFailed(f"{self.api_url} took no capture of {url}"
                                 + (f": {said}" if said else ""))
        return job

    def _finished(self, job: str, url: str) -> tuple[str, str]:
        """Poll the job until it ends or `wait` runs out: (timestamp, captured URL)."""
        deadline = time.monotonic() + self.wait
        while True:
            status = self._request("GET", f"/save/status/{quote(job, safe='')}")
            state = status.get("status")
            if state == "success":
                stamp = str(status.get("timestamp") or "")
                if not _TIMESTAMP.match(stamp):
                    raise DeliveryFailed(f"{self.api_url}: capture {job} succeeded without "
                                         "a valid timestamp")
                original = status.get("original_url")
                if not (isinstance(original, str) and original.startswith(("http://",
                                                                            "https://"))):
                    original = url
                return stamp, original
            if state != "pending":
                said = one_line(f"{status.get('status_ext') or state}: "
                                f"{status.get('message') or ''}", 200).rstrip(": ")
                raise DeliveryFailed(f"{self.api_url} could not copy {url} ({said})")
            if time.monotonic() + self.poll > deadline:
                raise DeliveryFailed(f"{self.api_url}: the copy of {url} was still pending "
                                     f"after {self.wait:g}s")
            time.sleep(self.poll)

    def _check_keys(self) -> str:
        status = self._request("GET", "/save/status/user")
        available = status.get("available")
        return "keys accepted" + (f"; {available} captures available now"
                                  if isinstance(available, int) else "")

    def _request(self, method: str, path: str, data: dict[str, str] | None = None
                 ) -> dict[str, Any]:
        target = self.api_url + path
        deadline = time.monotonic() + self.timeout  # for the whole answer, not each read
        try:
            with requests.request(method, target, data=data, headers=self._headers(),
                                  timeout=self.timeout, allow_redirects=False,
                                  stream=True) as answer:
                status, retry_after = answer.status_code, answer.headers.get("retry-after")
                content = _read(answer, deadline) if 200 <= status < 300 else b""
        except requests.Timeout:
            raise DeliveryFailed(f"{self.api_url}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{self.api_url}: {type(exc).__name__}") from None
        if content is None:
            raise DeliveryFailed(f"{self.api_url}: no whole answer within {self.timeout:g} s "
                                 f"and {MAX_ANSWER:,} bytes")
        if status in RETRYABLE or status >= 500:
            raise DeliveryFailed(f"{self.api_url} answered HTTP {status}",
                                 retry_after=_seconds(retry_after))
        if not 200 <= status < 300:
            raise DeliveryFailed(f"{self.api_url} answered HTTP {status}"
                                 + (" (are the keys right?)" if status in (401, 403) else ""),
                                 permanent=True)
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):  # RecursionError: nested past any answer
            raise DeliveryFailed(f"{self.api_url} answered HTTP {status} without JSON") from None
        if not isinstance(body, dict):
            raise DeliveryFailed(f"{self.api_url} answered HTTP {status} with unexpected JSON")
        return body


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None


def _read(answer: requests.Response, deadline: float) -> bytes | None:
    """The answer's body, or None when it is longer than MAX_ANSWER or still coming at
    `deadline` (a server trickling bytes keeps each read within the timeout)."""
    body = bytearray()
    # read1: what one receive brings (read(n) would wait for n bytes, a byte at a time).
    while chunk := answer.raw.read1(16384, decode_content=True):
        body += chunk
        if len(body) > MAX_ANSWER or time.monotonic() > deadline:
            return None
    return bytes(body)


def _seconds(retry_after: str | None) -> float | None:
    if retry_after and retry_after.strip().isascii() and retry_after.strip().isdigit():
        return float(retry_after.strip())
    return None
