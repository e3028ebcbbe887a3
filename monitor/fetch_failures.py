"""A failed fetch described: whatever requests, urllib3 or the connection guard
raised, mapped to one FetchFailed kind and a one-line message."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http.client import RemoteDisconnected
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import LocationValueError, NameResolutionError, NewConnectionError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from monitor.addresses import AddressBlocked
from monitor.errors import FetchFailed
from monitor.netguard import DeadlinePassed

if TYPE_CHECKING:
    from monitor.fetch import FetchSettings


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps (args, .reason, cause, context)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        inner = (*err.args, getattr(err, "reason", None), err.__cause__, err.__context__)
        stack.extend(e for e in inner if isinstance(e, BaseException))


def failure(url: str, exc: BaseException, settings: FetchSettings) -> FetchFailed:
    """Map whatever requests/urllib3 raised to one FetchFailed kind and a one-line message."""
    chain = list(causes(exc))

    def find(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    passed = find(DeadlinePassed)
    if isinstance(passed, DeadlinePassed) and passed.of_check:
        return FetchFailed("timeout", f"{url}: no complete answer before the check's "
                           f"{passed.seconds:g} s ran out (twice [fetch] deadline, shared "
                           "by every fetch of one check)")
    if passed:
        return FetchFailed("timeout", f"{url}: no complete answer within the "
                           f"{settings.deadline:g} s deadline for the whole fetch "
                           "([fetch] deadline)")
    if find(requests.TooManyRedirects):
        return FetchFailed("redirect_loop", f"{url}: more than {settings.max_redirects} "
                           "redirects (a redirect loop?)")
    if find(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema, LocationValueError):
        return FetchFailed("invalid_url", f"invalid URL {url!r}")
    if find(NameResolutionError, socket.gaierror):
        return FetchFailed("dns", f"{url}: cannot resolve host {urlsplit(url).hostname!r}")
    if tls := find(ssl.SSLError) or find(Urllib3SSLError, requests.exceptions.SSLError):
        reason = str(getattr(tls, "reason", None) or "").lower().replace("_", " ")
        why = getattr(tls, "verify_message", None) or reason or tls
        return FetchFailed("tls", " ".join(f"{url}: TLS failed: {why}".split()))
    if not find(NewConnectionError) and find(requests.Timeout, Urllib3Timeout, TimeoutError):
        return FetchFailed("timeout", f"{url}: timed out (connect {settings.connect_timeout:g} s,"
                           f" read {settings.read_timeout:g} s)")
    if find(requests.exceptions.ContentDecodingError):
        return FetchFailed("http_error", f"{url}: compressed body is corrupt")
    why = ("connection refused" if find(ConnectionRefusedError)
           else "connection reset" if find(ConnectionResetError)
           else "server closed the connection" if find(RemoteDisconnected)
           else "connection broken" if find(requests.exceptions.ChunkedEncodingError)
           else f"connection failed ({type(exc).__name__})")
    return FetchFailed("connection", f"{url}: {why}")


def blocked(url: str, exc: AddressBlocked) -> FetchFailed:
    try:
        first_host = urlsplit(url).hostname
    except ValueError:
        first_host = None
    hop = "" if exc.host == first_host else f"a redirect to {exc.host}: "
    return FetchFailed("blocked", f"{url}: {hop}{exc}")
