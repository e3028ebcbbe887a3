"""The connections a fetch makes: only to addresses the policy allows, and only
until the fetch's deadline.

Addresses. Checking a URL's host before the request is not enough: the name is
resolved again when the connection is made, and a server that runs its own DNS can
answer a public address to the check and 127.0.0.1 to the connection (DNS
rebinding); each redirect hop is a new connection too. So the connection classes
here resolve the name once, check every address (monitor.addresses), and connect to
an address they checked. The Host header, SNI and the certificate check still use
the name: urllib3 takes them from the connection's host, which is left as it is.

Deadline. A server that sends a byte a second never trips the read timeout, since
each byte restarts it; a page sent so held a check for minutes. So every read of an
answer (status line, headers, body, on every hop) and every connect waits at most
until the fetch's deadline, and then raises DeadlinePassed in the thread that was
reading, whose connection urllib3 then closes: no thread is left behind reading.

Both come from the fetch in progress on this thread (`fetch_scope`): a connection
is pooled and may serve fetches of several threads in turn.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPResponse
from typing import Any, cast
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests import Response as RequestsResponse
from requests.adapters import HTTPAdapter
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from monitor.addresses import AddressPolicy, private_networks_allowed


class DeadlinePassed(TimeoutError):
    """The fetch's total deadline passed. A TimeoutError, so that urllib3 handles it
    as the timeout it is (closing the connection, not retrying a read)."""

    def __init__(self, seconds: float, of_check: bool = False) -> None:
        super().__init__(f"the {'check' if of_check else 'fetch'}'s {seconds:g} s deadline passed")
        self.seconds = seconds
        self.of_check = of_check  # the whole check's budget ran out, not this fetch's


@dataclass(frozen=True)
class FetchScope:
    policy: AddressPolicy
    seconds: float | None  # the deadline, as given
    ends_at: float | None  # time.monotonic() when it passes
    of_check: bool = False  # ends_at is the enclosing check's end, which comes first


_local = threading.local()


@contextmanager
def fetch_scope(policy: AddressPolicy, deadline: float | None) -> Iterator[FetchScope]:
    """Connections made and answers read on this thread inside the block follow
    `policy` and end by `deadline` seconds from now."""
    ends_at = None if deadline is None else time.monotonic() + deadline
    scope = FetchScope(policy, deadline, ends_at)
    check: tuple[float, float] | None = getattr(_local, "check", None)
    if check is not None and (ends_at is None or check[1] < ends_at):
        scope = FetchScope(policy, check[0], check[1], of_check=True)
    outer = getattr(_local, "scope", None)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = outer


@contextmanager
def check_scope(seconds: float) -> Iterator[None]:
    """Every fetch made on this thread inside the block (one check of a source: its
    learning loads and its capture) also ends when `seconds` from now have passed:
    they share one budget, so a server answering each request just inside the fetch
    deadline cannot make a check cost several deadlines."""
    outer = getattr(_local, "check", None)
    _local.check = (seconds, time.monotonic() + seconds)
    try:
        yield
    finally:
        _local.check = outer


def current_scope() -> FetchScope:
    """The fetch in progress on this thread (outside one: the environment's policy,
    no deadline)."""
    scope: FetchScope | None = getattr(_local, "scope", None)
    return scope or FetchScope(AddressPolicy(allow_private=private_networks_allowed()),
                               None, None)


def time_left(timeout: float | None) -> float | None:
    """`timeout` cut to the time left before this thread's fetch deadline (None: no
    limit). DeadlinePassed when no time is left."""
    scope: FetchScope | None = getattr(_local, "scope", None)  # read on every recv: cheap
    if scope is None or scope.ends_at is None or scope.seconds is None:
        return timeout
    left = scope.ends_at - time.monotonic()
    if left <= 0:
        raise DeadlinePassed(scope.seconds, scope.of_check)
    return left if timeout is None or left < timeout else timeout


def deadline_error(after: float = 0.0) -> DeadlinePassed | None:
    """DeadlinePassed if this thread's fetch deadline has passed, or will have
    `after` seconds from now; else None."""
    try:
        left = time_left(None)
    except DeadlinePassed as exc:
        return exc
    if left is not None and left <= after:
        return DeadlinePassed(current_scope().seconds or 0.0)
    return None


# --- reading an answer ------------------------------------------------------------


class _DeadlineReader(io.RawIOBase):
    """A socket's byte stream whose every read waits no longer than the deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # counts as a user of the socket
        self._timeout = sock.gettimeout()  # the read timeout urllib3 set for this answer

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, buffer: Any) -> int | None:
        limit = time_left(self._timeout)
        cut = limit != self._timeout
        if cut:
            self._sock.settimeout(limit)
        try:
            return self._raw.readinto(buffer)
        except TimeoutError:
            if cut and (late := deadline_error()):
                raise late from None
            raise
        finally:
            if cut:
                with contextlib.suppress(OSError):  # closed meanwhile
                    self._sock.settimeout(self._timeout)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineSocketView:
    """What http.client's HTTPResponse needs of a socket (makefile), reading
    through the deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock))


class _DeadlineResponse(HTTPResponse):
    def __init__(self, sock: Any, debuglevel: int = 0, method: str | None = None,
                 url: str | None = None) -> None:
        super().__init__(_DeadlineSocketView(sock), debuglevel, method, url)  # type: ignore[arg-type]


# --- connecting ---------------------------------------------------------------------


class _Guarded:
    """Mixed into urllib3's connection classes: connect only to checked addresses,
    and by the deadline."""

    # Set by urllib3 on the connection (declared for mypy).
    host: str
    _dns_host: str
    port: int
    timeout: Any
    proxy: Any
    source_address: tuple[str, int] | None
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        scope = current_scope()
        conn = cast(HTTPConnection, self)
        host = self._dns_host.strip("[]")
        try:
            # A proxy is the operator's choice: connected to as configured. The
            # target behind it is checked in GuardedAdapter.send.
            addresses = (scope.policy.allowed_addresses(host) if self.proxy is None
                         else AddressPolicy(allow_private=True).allowed_addresses(host))
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, conn, exc) from exc
        if not addresses:
            raise NewConnectionError(conn, f"{host} resolves to no address")
        failure: OSError | None = None
        for address in addresses:
            try:
                return self._connect_to(address)
            except DeadlinePassed as late:
                raise ConnectTimeoutError(self, str(late)) from late
            except OSError as exc:
                failure = exc
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from failure
        raise NewConnectionError(
            conn, f"Failed to establish a new connection: {failure}") from failure

    def _connect_to(self, address: str) -> socket.socket:
        """A socket connected to `address` (one the policy allowed), as urllib3's
        create_connection makes one."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            timeout = self.timeout if isinstance(self.timeout, int | float) else None
            sock.settimeout(time_left(timeout))
            if self.source_address:
                sock.bind(self.source_address)
            sock.connect((address, self.port))
        except BaseException as exc:
            sock.close()
            late = deadline_error() if isinstance(exc, TimeoutError) else None
            if late is not None:  # the connect was cut short by the deadline
                raise late from exc
            raise
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    response_class = _DeadlineResponse


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    response_class = _DeadlineResponse


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """requests' adapter over the guarded connections, for every hop of a fetch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools connect their own way
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(self, request: PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None,
             proxies: dict[str, str] | None = None) -> RequestsResponse:
        policy = current_scope().policy
        if (not policy.allow_private and proxies and request.url
                and select_proxy(request.url, proxies)):
            # The proxy connects to the target, out of our sight: its name is checked
            # as it resolves here (the proxy might resolve it otherwise). A name that
            # does not resolve here cannot be checked, so it is not fetched.
            try:
                policy.allowed_addresses(urlsplit(request.url).hostname or "")
            except socket.gaierror as exc:
                raise RequestsConnectionError(exc, request=request) from exc
        return super().send(request, stream, timeout, verify, cert, proxies)
