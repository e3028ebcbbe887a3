"""`monitor.toml`: sources, alert channels, database and defaults.

Lookup: --config, then $MONITOR_CONFIG, then ./monitor.toml; without a file
the monitor runs with defaults and no configured sources. $MONITOR_DATABASE_URL
overrides the file's database URL. Every problem is reported as one line that
names the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.addresses import private_networks_allowed
from monitor.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///var/monitor.db"
DEFAULT_INTERVAL = 15 * 60
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_SIZES = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, None: 1}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
MAX_DEADLINE = 3600.0  # a fetch that needs more than an hour is not a page


def parse_duration(value: Any) -> float:
    """'30s', '15m', '1h', '1d', '250ms' or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value).lower())
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 15m, 1h, 1d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError(f"{value!r} is negative")
    return seconds


def parse_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size (use e.g. 10MB, 512KB)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _SIZES[unit])


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def url_problem(url: str) -> str | None:
    """Why `url` cannot be watched (None when it can): http(s), a host, no spaces."""
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        return f"{url!r} is not a URL (it contains spaces)"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return f"{url!r} is not an http(s) URL"
    if not host:
        return f"{url!r} has no host"
    return None


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str
    kind: str
    interval_seconds: int
    language: str | None = None
    selector: str | None = None
    ignore: tuple[str, ...] = ()
    follow: bool = False
    translation_of: str | None = None
    baseline: Path | None = None
    ca_bundle: str | None = None


@dataclass(frozen=True)
class AlertConfig:
    name: str
    kind: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class FetchConfig:
    contact: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 3
    backoff: float = 0.5  # seconds; doubles with each retry
    max_concurrent_per_host: int = 2
    min_delay_per_host: float = 1.0
    ca_bundle: str | None = None
    keep_raw: bool = True
    deadline: float = 60.0  # one whole fetch: connect, redirects, body
    # Unless given: what MONITOR_ALLOW_PRIVATE_NETWORKS says (monitor.addresses).
    allow_private_networks: bool = field(default_factory=private_networks_allowed)


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str
    default_interval: int = DEFAULT_INTERVAL
    not_found_confirmations: int = 3
    # A failing source has a FetchFailed recorded at most once per this many seconds of
    # its streak (0 = every failed check; see Checker._repeats_recent_failure).
    repeat_failures_every: float = 3600.0
    # A dispatcher's first run alerts on events at most this old (seconds): channels
    # set up on a store with history are not flooded with it.
    alerts_backfill: float = 86400.0
    workers: int = 8
    fetch: FetchConfig = field(default_factory=FetchConfig)
    sources: tuple[SourceConfig, ...] = ()
    alerts: tuple[AlertConfig, ...] = ()
    cluster: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


def config_path(explicit: str | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get("MONITOR_CONFIG"):
        return Path(os.environ["MONITOR_CONFIG"])
    local = Path("monitor.toml")
    return local if local.exists() else None


def load_config(explicit: str | None = None) -> Config:
    path = config_path(explicit)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _Reader(path).config(raw)


class _Reader:
    """Turns the parsed TOML into a Config, naming file and key in every error."""

    TOP = {"database_url", "database", "defaults", "fetch", "sources", "alerts", "cluster"}
    SOURCE = {"name", "url", "kind", "interval", "language", "selector", "ignore", "follow",
              "translation_of", "baseline", "ca_bundle"}

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.base = path.resolve().parent if path else Path.cwd()

    def fail(self, key: str, problem: str) -> ConfigError:
        where = str(self.path) if self.path else "configuration"
        return ConfigError(f"{where}: {key}: {problem}")

    def config(self, raw: dict[str, Any]) -> Config:
        self._known(raw, self.TOP, "")
        defaults = self._table(raw, "defaults")
        self._known(defaults, {"interval", "not_found_confirmations", "workers",
                               "repeat_failures_every", "alerts_backfill"}, "defaults.")
        interval = int(self._duration(defaults, "interval", DEFAULT_INTERVAL, "defaults."))
        confirmations = self._int(defaults, "not_found_confirmations", 3, "defaults.", minimum=1)
        workers = self._int(defaults, "workers", 8, "defaults.", minimum=1)
        repeat = self._duration(defaults, "repeat_failures_every", 3600.0, "defaults.")
        backfill = self._duration(defaults, "alerts_backfill", 86400.0, "defaults.")
        database_url = self._database_url(raw)
        fetch = self._fetch(self._table(raw, "fetch"))
        sources = self._sources(raw.get("sources", []), interval)
        return Config(
            path=self.path,
            database_url=database_url,
            default_interval=interval,
            not_found_confirmations=confirmations,
            repeat_failures_every=repeat,
            alerts_backfill=backfill,
            workers=workers,
            fetch=fetch,
            sources=sources,
            alerts=self._alerts(raw.get("alerts", [])),
            cluster=self._table(raw, "cluster"),
        )

    def _database_url(self, raw: dict[str, Any]) -> str:
        env = os.environ.get("MONITOR_DATABASE_URL")
        if env:
            return env
        url = raw.get("database_url")
        database = self._table(raw, "database")
        self._known(database, {"url"}, "database.")
        url = database.get("url", url)
        if url is None:
            return DEFAULT_DATABASE_URL
        if not isinstance(url, str) or not url:
            raise self.fail("database.url", "must be a non-empty string")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url[len("sqlite:///"):]
            if relative and relative != ":memory:" and self.path is not None:
                return "sqlite:///" + str(self.base / relative)
        return url

    def _fetch(self, table: dict[str, Any]) -> FetchConfig:
        self._known(table, set(FetchConfig.__dataclass_fields__), "fetch.")
        p = "fetch."
        contact = table.get("contact")
        if contact is not None and not isinstance(contact, str):
            raise self.fail("fetch.contact", "must be a string (an e-mail or URL)")
        try:
            max_bytes = parse_size(table.get("max_bytes", "10MB"))
        except ValueError as exc:
            raise self.fail("fetch.max_bytes", str(exc)) from None
        return FetchConfig(
            contact=contact or None,
            timeout=self._duration(table, "timeout", 30.0, p),
            connect_timeout=self._duration(table, "connect_timeout", 10.0, p),
            max_bytes=max_bytes,
            retries=self._int(table, "retries", 3, p, minimum=0),
            backoff=self._duration(table, "backoff", 0.5, p),
            max_concurrent_per_host=self._int(table, "max_concurrent_per_host", 2, p, minimum=1),
            min_delay_per_host=self._duration(table, "min_delay_per_host", 1.0, p),
            ca_bundle=self._path(table, "ca_bundle", p),
            keep_raw=self._bool(table, "keep_raw", True, p),
            deadline=self._deadline(table),
            # The environment can allow what the file does not (tests, the demo).
            allow_private_networks=self._bool(table, "allow_private_networks", False, p)
            or private_networks_allowed(),
        )

    def _deadline(self, table: dict[str, Any]) -> float:
        seconds = self._duration(table, "deadline", 60.0, "fetch.")
        if not 0 < seconds <= MAX_DEADLINE:
            raise self.fail("fetch.deadline", f"{table['deadline']!r}: must be more than 0s "
                            f"and at most {MAX_DEADLINE / 60:g}m")
        return seconds

    def _sources(self, items: Any, default_interval: int) -> tuple[SourceConfig, ...]:
        if not isinstance(items, list):
            raise self.fail("sources", "must be an array of tables ([[sources]])")
        seen: set[str] = set()
        result = []
        for index, item in enumerate(items):
            p = f"sources[{index}]."
            if not isinstance(item, dict):
                raise self.fail(f"sources[{index}]", "must be a table")
            self._known(item, self.SOURCE, p)
            url = self._str(item, "url", p, required=True)
            if problem := url_problem(url):
                raise self.fail(p + "url", problem)
            name = self._str(item, "name", p, required=True)
            if not valid_name(name):
                raise self.fail(p + "name", f"{name!r}: use letters, digits, '.', '_' or '-'")
            if name in seen:
                raise self.fail(p + "name", f"{name!r} is used by another source")
            seen.add(name)
            kind = self._str(item, "kind", p) or "html"
            _check_kind(kind, self.fail, p + "kind")
            ignore = item.get("ignore", [])
            if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
                raise self.fail(p + "ignore", "must be a list of strings")
            baseline = self._path(item, "baseline", p)
            if baseline and not Path(baseline).exists():
                raise self.fail(p + "baseline", f"{baseline}: no such file")
            result.append(
                SourceConfig(
                    name=name,
                    url=url,
                    kind=kind,
                    interval_seconds=self._interval(item, default_interval, p),
                    language=self._str(item, "language", p),
                    selector=self._str(item, "selector", p),
                    ignore=tuple(ignore),
                    follow=self._bool(item, "follow", False, p),
                    translation_of=self._str(item, "translation_of", p),
                    baseline=Path(baseline) if baseline else None,
                    ca_bundle=self._path(item, "ca_bundle", p),
                )
            )
        return tuple(result)

    def _alerts(self, items: Any) -> tuple[AlertConfig, ...]:
        if not isinstance(items, list):
            raise self.fail("alerts", "must be an array of tables ([[alerts]])")
        result = []
        for index, item in enumerate(items):
            p = f"alerts[{index}]."
            if not isinstance(item, dict):
                raise self.fail(f"alerts[{index}]", "must be a table")
            name = self._str(item, "name", p, required=True)
            kind = self._str(item, "kind", p, required=True)
            settings = {k: v for k, v in item.items() if k not in ("name", "kind")}
            result.append(AlertConfig(name=name, kind=kind, settings=settings))
        return tuple(result)

    # --- typed getters ------------------------------------------------------
    def _known(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(prefix + key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def _table(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def _str(self, table: dict[str, Any], key: str, p: str, required: bool = False) -> Any:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(p + key, "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(p + key, "must be a non-empty string")
        return value

    def _int(self, table: dict[str, Any], key: str, default: int, p: str, minimum: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(p + key, f"must be a whole number >= {minimum}")
        return value

    def _bool(self, table: dict[str, Any], key: str, default: bool, p: str) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(p + key, "must be true or false")
        return value

    def _duration(self, table: dict[str, Any], key: str, default: float, p: str) -> float:
        try:
            return parse_duration(table.get(key, default))
        except ValueError as exc:
            raise self.fail(p + key, str(exc)) from None

    def _interval(self, table: dict[str, Any], default: int, p: str) -> int:
        seconds = int(self._duration(table, "interval", default, p))
        if seconds < 1:
            raise self.fail(p + "interval", "must be at least 1s")
        return seconds

    def _path(self, table: dict[str, Any], key: str, p: str) -> str | None:
        value = self._str(table, key, p)
        if value is None:
            return None
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else self.base / path)


def _check_kind(kind: str, fail: Any, key: str) -> None:
    from monitor.sources import KINDS  # the registry of adapters

    if kind not in KINDS:
        raise fail(key, f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
