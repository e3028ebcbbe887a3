"""Per-host politeness across every worker process on every machine, kept in Redis.

The single-process fetcher already limits each host (monitor.politeness.HostGate);
a cluster must hold the same limits for all its workers together, so each request
also takes:

- a slot of `HostSlots`, a Dramatiq rate limiter (same `acquire()` interface as
  ConcurrentRateLimiter, on Dramatiq's Redis backend) whose slots are leases: each
  holder's slot carries an expiry that its process renews while the request runs.
  Dramatiq's ConcurrentRateLimiter is a bare counter, so a worker killed mid-request
  would keep its slot until the host went quiet for the whole TTL, which for
  gov.kz (every source on one host) is never: the host would lose capacity for good.
  Here a dead holder's slot frees itself after one lease.
- a start time from `HostSpacing`, which hands out request starts at least
  `min_delay` apart for the host, like HostGate does in one process. Dramatiq's
  WindowRateLimiter counts starts per fixed window, which lets two starts fall a
  millisecond apart on either side of a window's edge; a reservation cannot.

Both read the clock of the Redis server, so machines with skewed clocks agree.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from dramatiq.rate_limits import RateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from monitor.fetch import Fetcher, FetchSettings

log = logging.getLogger("monitor.cluster")

# Redis 5 and 6 need effects replication before a script may read TIME and write.
_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_TAKE_SLOT = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
return 1
"""

_RENEW_SLOT = _NOW + """
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return renewed
"""

_RESERVE_START = _NOW + """
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], start + delay, 'PX', start + delay - now + 1000)
return start - now
"""


class HostSlots(RateLimiter):
    """At most `limit` holders of `key` at once, each holding a lease of `lease_ms`.

    One instance is one attempt to hold one slot; use it once, from one thread:

        with HostSlots(backend, key, limit=2, lease_ms=30_000).acquire(
                raise_on_failure=False) as acquired: ...
    """

    def __init__(self, backend: RedisBackend, key: str, *, limit: int, lease_ms: int,
                 keeper: LeaseKeeper | None = None) -> None:
        super().__init__(backend, key)
        self.limit = limit
        self.lease_ms = lease_ms
        self.keeper = keeper
        self.token = uuid.uuid4().hex
        self._take = backend.client.register_script(_TAKE_SLOT)

    def _acquire(self) -> bool:
        taken = bool(self._take(keys=[self.key], args=[self.token, self.limit, self.lease_ms]))
        if taken and self.keeper is not None:
            self.keeper.hold(self.key, self.token)
        return taken

    def _release(self) -> None:
        if self.keeper is not None:
            self.keeper.drop(self.key, self.token)
        self.backend.client.zrem(self.key, self.token)


class LeaseKeeper:
    """Renews the leases this process holds, every third of a lease, on one thread."""

    def __init__(self, backend: RedisBackend, lease_ms: int) -> None:
        self.client = backend.client
        self.lease_ms = lease_ms
        self._renew = self.client.register_script(_RENEW_SLOT)
        self._held: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def hold(self, key: str, token: str) -> None:
        with self._lock:
            self._held.add((key, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="host-leases",
                                                daemon=True)
                self._thread.start()

    def drop(self, key: str, token: str) -> None:
        with self._lock:
            self._held.discard((key, token))

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_ms / 3000):
            with self._lock:
                held = list(self._held)
            for key, token in held:
                try:
                    if not self._renew(keys=[key], args=[token, self.lease_ms]) and \
                            self._still_held(key, token):
                        log.warning("lease on %s ran out before it was renewed", key)
                except Exception as exc:  # Redis away: the lease may lapse; the request goes on
                    log.warning("renewing the lease on %s failed: %s", key, exc)

    def _still_held(self, key: str, token: str) -> bool:
        with self._lock:
            return (key, token) in self._held


class HostSpacing:
    """Reserves request starts for a host at least `delay_ms` apart, cluster-wide."""

    def __init__(self, backend: RedisBackend) -> None:
        self._reserve = backend.client.register_script(_RESERVE_START)

    def wait_turn(self, key: str, delay_ms: int) -> float:
        """Sleep until this caller's reserved start; returns the seconds slept."""
        if delay_ms <= 0:
            return 0.0
        wait = int(self._reserve(keys=[key], args=[delay_ms])) / 1000
        if wait > 0:
            time.sleep(wait)
        return wait


class ClusterPoliteness:
    """The cluster-wide gate for each host: one slot, then a spaced start."""

    POLL_SECONDS = (0.005, 0.1)  # between tries for a slot: first, at most

    def __init__(self, backend: RedisBackend, namespace: str, *, limit: int,
                 min_delay: float, lease_seconds: float,
                 on_wait: Callable[[float], None] | None = None,
                 on_request: Callable[[float], None] | None = None) -> None:
        self.backend = backend
        self.prefix = f"{namespace}:hosts:"
        self.limit = limit
        self.delay_ms = int(min_delay * 1000)
        self.lease_ms = int(lease_seconds * 1000)
        self.keeper = LeaseKeeper(backend, self.lease_ms)
        self.spacing = HostSpacing(backend)
        self.on_wait = on_wait
        self.on_request = on_request

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        waited = time.monotonic()
        slots = HostSlots(self.backend, f"{self.prefix}{host}:slots", limit=self.limit,
                          lease_ms=self.lease_ms, keeper=self.keeper)
        pause = self.POLL_SECONDS[0]
        while True:
            with slots.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    self.spacing.wait_turn(f"{self.prefix}{host}:next", self.delay_ms)
                    started = time.monotonic()
                    if self.on_wait:
                        self.on_wait(started - waited)
                    try:
                        yield
                    finally:
                        if self.on_request:
                            self.on_request(time.monotonic() - started)
                    return
            time.sleep(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, self.POLL_SECONDS[1])

    def close(self) -> None:
        self.keeper.close()


class _TwoStageGate:
    """This process's HostGate first (threads queue locally), then the cluster's."""

    def __init__(self, local: Any, cluster: ClusterPoliteness, host: str) -> None:
        self.local = local
        self.cluster = cluster
        self.host = host

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self.local.slot(), self.cluster.slot(self.host):
            yield


class ClusterFetcher(Fetcher):
    """A Fetcher whose per-host limits hold across the cluster, not just this process.

    The in-process gate keeps this process's threads from polling Redis for a host
    they could not use anyway; it adds no delay of its own (see `local_settings`).
    """

    def __init__(self, settings: FetchSettings, politeness: ClusterPoliteness) -> None:
        super().__init__(settings)
        self.politeness = politeness

    def _gate(self, url: str) -> Any:  # overrides Fetcher's per-host gate lookup
        local = super()._gate(url)  # also rejects URLs without an http(s) host
        return _TwoStageGate(local, self.politeness, urlsplit(url).hostname or "")

    def close(self) -> None:
        self.politeness.close()
        super().close()


def local_settings(settings: FetchSettings, limit: int) -> FetchSettings:
    """Fetch settings for a worker process: the cluster gate does the spacing."""
    return replace(settings, max_concurrent_per_host=limit, min_delay_per_host=0.0)
