"""The `[cluster]` table of monitor.toml, checked, with every problem naming file and key.

    [cluster]
    broker_url = "redis://127.0.0.1:6379/0"   # or amqp://guest:guest@127.0.0.1:5672/
    redis_url = "redis://127.0.0.1:6379/0"    # rate limits, heartbeats, status; default: broker_url
    namespace = "monitor"                      # prefix of every Redis key and queue name
    max_concurrent_per_host = 2                # across all workers; default: [fetch]'s
    min_delay_per_host = "1s"                  # between request starts, across all workers
    metrics_port = 9310                        # Prometheus /metrics; --metrics-port overrides
    time_limit = "5m"                          # a check running longer is interrupted
    max_retries = 3                            # for checks that crash (not for page errors)
    redeliver_after = "60s"                    # a silent worker's messages go to others
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from monitor.config import Config, parse_duration
from monitor.errors import ConfigError

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
REDIS_SCHEMES = ("redis", "rediss", "unix")
AMQP_SCHEMES = ("amqp", "amqps")
_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
KEYS = frozenset({"broker_url", "redis_url", "namespace", "max_concurrent_per_host",
                  "min_delay_per_host", "metrics_port", "time_limit", "max_retries",
                  "redeliver_after"})


@dataclass(frozen=True)
class ClusterSettings:
    broker_url: str = DEFAULT_BROKER_URL
    redis_url: str = DEFAULT_BROKER_URL
    namespace: str = "monitor"
    max_concurrent_per_host: int = 2
    min_delay_per_host: float = 1.0  # seconds
    metrics_port: int | None = None
    time_limit: float = 300.0  # seconds
    max_retries: int = 3
    redeliver_after: float = 60.0  # seconds without a heartbeat before a worker counts as dead

    @property
    def broker_kind(self) -> str:
        return "rabbitmq" if urlsplit(self.broker_url).scheme in AMQP_SCHEMES else "redis"

    @property
    def checks_queue(self) -> str:
        return f"{self.namespace}.checks"

    @property
    def alerts_queue(self) -> str:
        return f"{self.namespace}.alerts"


def cluster_settings(config: Config) -> ClusterSettings:
    """The checked `[cluster]` settings of a configuration (defaults where unset)."""
    return _Reader(config).settings()


class _Reader:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.raw = config.cluster

    def fail(self, key: str, problem: str) -> ConfigError:
        where = str(self.config.path) if self.config.path else "configuration"
        return ConfigError(f"{where}: cluster.{key}: {problem}")

    def settings(self) -> ClusterSettings:
        for key in self.raw:
            if key not in KEYS:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(KEYS))})")
        broker_url = self._url("broker_url", DEFAULT_BROKER_URL, REDIS_SCHEMES + AMQP_SCHEMES)
        redis_default = broker_url if urlsplit(broker_url).scheme in REDIS_SCHEMES else None
        if "redis_url" not in self.raw and redis_default is None:
            raise self.fail("redis_url", "is required with a RabbitMQ broker (per-host limits, "
                            "heartbeats and status live in Redis)")
        redis_url = self._url("redis_url", redis_default or "", REDIS_SCHEMES)
        namespace = self.raw.get("namespace", "monitor")
        if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
            raise self.fail("namespace", f"{namespace!r}: use a letter, then letters, digits, "
                            "'_' or '-' (at most 64)")
        fetch = self.config.fetch
        return ClusterSettings(
            broker_url=broker_url,
            redis_url=redis_url,
            namespace=namespace,
            max_concurrent_per_host=self._int("max_concurrent_per_host",
                                              fetch.max_concurrent_per_host, 1),
            min_delay_per_host=self._duration("min_delay_per_host", fetch.min_delay_per_host),
            metrics_port=self._port("metrics_port"),
            time_limit=self._duration("time_limit", 300.0, minimum=1.0),
            max_retries=self._int("max_retries", 3, 0),
            redeliver_after=self._duration("redeliver_after", 60.0, minimum=1.0),
        )

    def _url(self, key: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty URL string")
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise self.fail(key, f"{value!r}: the scheme must be one of "
                            f"{', '.join(s + '://' for s in schemes)}")
        return value

    def _int(self, key: str, default: int, minimum: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be a whole number >= {minimum}")
        return value

    def _duration(self, key: str, default: float, minimum: float = 0.0) -> float:
        try:
            seconds = parse_duration(self.raw.get(key, default))
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if seconds < minimum:
            raise self.fail(key, f"must be at least {minimum:g}s")
        return seconds

    def _port(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise self.fail(key, "must be a TCP port number (0 to 65535)")
        return value


def libpq_url(database_url: str) -> str:
    """The cluster's database URL (SQLAlchemy form) as a plain libpq URL; the cluster
    needs PostgreSQL: its workers on several machines share one store."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"the cluster needs PostgreSQL, not {url.get_backend_name()}: set "
                          "database.url (or $MONITOR_DATABASE_URL) to postgresql://…")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
