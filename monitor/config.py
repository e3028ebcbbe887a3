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
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.addresses import private_networks_allowed
from monitor.errors import ConfigError
from monitor.i18n import DEFAULT_LANGUAGE, DEFAULT_TIMEZONE, language_problem, timezone_problem
from monitor.naming import registered_url
from monitor.render.choice import render_problem
from monitor.tags import parse_tags
from monitor.validation import (
    auth_env_problem,
    kind_url_problem,
    mask_problems,
    name_problem,
    parse_confirm,
    parse_duration,
    parse_interval,
    parse_size,
    url_problem,
)
from monitor.validation import valid_name as valid_name  # where it was always imported from

DEFAULT_DATABASE_URL = "sqlite:///var/monitor.db"
DEFAULT_INTERVAL = 15 * 60
MAX_DEADLINE = 3600.0  # a fetch that needs more than an hour is not a page
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
    auth_env: str | None = None  # the environment variable holding "user:password"
    confirm: float | None = None  # seconds; None: `[defaults] confirm` (monitor.confirm)
    tags: tuple[str, ...] = ()  # sorted, each once (monitor.tags)
    render: bool = False  # read in a browser (monitor.render)
    screenshot: bool = False  # keep a screenshot of each version (read in a browser too)


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
    # its streak (0 = every failed check; see FailureLog._repeats_recent_failure).
    repeat_failures_every: float = 3600.0
    # A dispatcher's first run alerts on events at most this old (seconds): channels
    # set up on a store with history are not flooded with it.
    alerts_backfill: float = 86400.0
    # How often the daemon looks for alerts that came due without a check to wake it
    # (a digest's period ended, a retry's wait ran out), in seconds: [defaults] dispatch_every.
    dispatch_every: float = 5.0
    workers: int = 8
    # Masks proposed for a flapping part of a page are applied at once (default: they
    # wait for `monitor learn NAME --accept`; see monitor.flaps).
    apply_proposed_masks: bool = False
    default_confirm: float = 0.0  # [defaults] confirm, seconds (monitor.confirm)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    sources: tuple[SourceConfig, ...] = ()
    alerts: tuple[AlertConfig, ...] = ()
    cluster: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # [evidence]: monitor.evidence.settings
    render: dict[str, Any] = field(default_factory=dict)  # [render]: monitor.render.settings
    # [web] public_url: where people reach the web app; links in alerts and reports
    # are built on it (none when unset: the CLI commands are given instead).
    public_url: str | None = None
    # [web] listen: where `monitor run` and `monitor serve` serve the web app
    # ($MONITOR_WEB_LISTEN overrides; port 0 takes a free port). enabled = false: the
    # daemon serves nothing (`monitor serve` still does).
    web_listen: str = "127.0.0.1:8080"
    web_enabled: bool = True
    # [display]: the language and timezone of what people read (alerts, reports),
    # unless a channel or a command says otherwise (see monitor.i18n).
    display_language: str = DEFAULT_LANGUAGE
    display_timezone: str = DEFAULT_TIMEZONE

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
    if path is None:
        return _Reader(None).config({})
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """The configuration that `text` would be as the file at `path` (relative paths in
    it are relative to that file's folder): how `monitor alerts add` checks a change
    before it writes it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _Reader(path).config(raw)


class _Reader:
    """Turns the parsed TOML into a Config, naming file and key in every error."""

    TOP = {"database_url", "database", "defaults", "fetch", "sources", "alerts", "cluster",
           "web", "display", "evidence", "render"}
    SOURCE = {"name", "url", "kind", "interval", "language", "selector", "ignore", "follow",
              "translation_of", "baseline", "ca_bundle", "auth_env", "confirm", "tags",
              "render", "screenshot"}

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
                               "repeat_failures_every", "alerts_backfill", "apply_proposed_masks",
                               "confirm", "dispatch_every"},
                    "defaults.")
        interval = self._interval(defaults, DEFAULT_INTERVAL, "defaults.")
        confirmations = self._int(defaults, "not_found_confirmations", 3, "defaults.", minimum=1)
        workers = self._int(defaults, "workers", 8, "defaults.", minimum=1)
        repeat = self._duration(defaults, "repeat_failures_every", 3600.0, "defaults.")
        backfill = self._duration(defaults, "alerts_backfill", 86400.0, "defaults.")
        dispatch_every = self._duration(defaults, "dispatch_every", 5.0, "defaults.")
        if dispatch_every <= 0:
            raise self.fail("defaults.dispatch_every", "must be longer than 0s")
        apply_proposed = self._bool(defaults, "apply_proposed_masks", False, "defaults.")
        confirm = self._confirm(defaults, "defaults.")
        database_url = self._database_url(raw)
        fetch = self._fetch(self._table(raw, "fetch"))
        sources = self._sources(raw.get("sources", []), interval)
        config = Config(
            path=self.path,
            database_url=database_url,
            default_interval=interval,
            not_found_confirmations=confirmations,
            repeat_failures_every=repeat,
            alerts_backfill=backfill,
            dispatch_every=dispatch_every,
            workers=workers,
            apply_proposed_masks=apply_proposed,
            default_confirm=confirm or 0.0,
            fetch=fetch,
            sources=sources,
            alerts=self._alerts(raw.get("alerts", [])),
            cluster=self._table(raw, "cluster"),
            evidence=self._table(raw, "evidence"),
            render=self._table(raw, "render"),
            **self._web(self._table(raw, "web")),
            **self._display(self._table(raw, "display")),
        )
        _check_channels_and_cluster(config)
        return config

    def _web(self, web: dict[str, Any]) -> dict[str, Any]:
        self._known(web, {"public_url", "listen", "enabled"}, "web.")
        listen = os.environ.get("MONITOR_WEB_LISTEN") or web.get("listen", "127.0.0.1:8080")
        problem = listen_problem(listen)
        if problem:
            key = "web.listen" if "MONITOR_WEB_LISTEN" not in os.environ else \
                "$MONITOR_WEB_LISTEN"
            raise self.fail(key, problem)
        return {"public_url": self._public_url(web), "web_listen": listen,
                "web_enabled": self._bool(web, "enabled", True, "web.")}

    def _public_url(self, web: dict[str, Any]) -> str | None:
        url = web.get("public_url")
        if url is None:
            return None
        if not isinstance(url, str) or not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url):
            raise self.fail("web.public_url", f"{url!r} is not an http(s) URL without a query "
                            "(e.g. https://monitor.example.org)")
        return url.rstrip("/")

    def _display(self, display: dict[str, Any]) -> dict[str, Any]:
        self._known(display, {"language", "timezone"}, "display.")
        language = display.get("language", DEFAULT_LANGUAGE)
        timezone = display.get("timezone", DEFAULT_TIMEZONE)
        if problem := language_problem(language):
            raise self.fail("display.language", problem)
        if problem := timezone_problem(timezone):
            raise self.fail("display.timezone", problem)
        return {"display_language": language, "display_timezone": timezone}

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
        if max_bytes < 1:  # every page would be "too large": no check could ever succeed
            raise self.fail("fetch.max_bytes", f"{table['max_bytes']!r}: must be at least 1 byte "
                            "(e.g. 10MB)")
        return FetchConfig(
            contact=contact or None,
            timeout=self._timeout(table, "timeout", 30.0, p),
            connect_timeout=self._timeout(table, "connect_timeout", 10.0, p),
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
            url = registered_url(self._str(item, "url", p, required=True))
            if problem := url_problem(url):
                raise self.fail(p + "url", problem)
            # NFC: a name typed on a keyboard that sends decomposed letters is the same name.
            name = unicodedata.normalize("NFC", self._str(item, "name", p, required=True))
            if problem := name_problem(name):
                raise self.fail(p + "name", problem)
            if name in seen:
                raise self.fail(p + "name", f"{name!r} is used by another source")
            seen.add(name)
            kind = self._str(item, "kind", p) or "html"
            _check_kind(kind, self.fail, p + "kind")
            if problem := kind_url_problem(url, kind):
                raise self.fail(p + "kind", problem)
            selector = self._str(item, "selector", p)
            ignore = item.get("ignore", [])
            if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
                raise self.fail(p + "ignore", "must be a list of strings")
            if problems := mask_problems(selector, ignore):
                raise self.fail(p + problems[0][0], problems[0][1])
            auth_env = self._str(item, "auth_env", p)
            if auth_env is not None and (problem := auth_env_problem(auth_env, kind)):
                raise self.fail(p + "auth_env", problem)
            render, screenshot = (self._bool(item, key, False, p) for key in ("render",
                                                                                "screenshot"))
            if refused := render_problem(kind, render, screenshot):
                raise self.fail(p + refused[0], refused[1])
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
                    selector=selector,
                    ignore=tuple(ignore),
                    follow=self._bool(item, "follow", False, p),
                    translation_of=self._str(item, "translation_of", p),
                    baseline=Path(baseline) if baseline else None,
                    ca_bundle=self._path(item, "ca_bundle", p),
                    auth_env=auth_env,
                    confirm=self._confirm(item, p),
                    tags=self._tags(item, p),
                    render=render,
                    screenshot=screenshot,
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

    def _confirm(self, table: dict[str, Any], p: str) -> float | None:
        try:
            return parse_confirm(table["confirm"]) if "confirm" in table else None
        except ValueError as exc:
            raise self.fail(p + "confirm", str(exc)) from None

    def _tags(self, table: dict[str, Any], p: str) -> tuple[str, ...]:
        try:
            return parse_tags(table.get("tags", []))
        except ValueError as exc:
            raise self.fail(p + "tags", str(exc)) from None

    def _timeout(self, table: dict[str, Any], key: str, default: float, p: str) -> float:
        seconds = self._duration(table, key, default, p)
        if seconds <= 0:
            raise self.fail(p + key, "must be longer than 0s (every fetch would fail at once)")
        return seconds

    def _interval(self, table: dict[str, Any], default: int, p: str) -> int:
        try:
            return parse_interval(table.get("interval", default))
        except ValueError as exc:
            raise self.fail(p + "interval", str(exc)) from None

    def _path(self, table: dict[str, Any], key: str, p: str) -> str | None:
        value = self._str(table, key, p)
        if value is None:
            return None
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else self.base / path)


def listen_problem(value: object) -> str | None:
    """Why `value` is not HOST:PORT (an IPv6 host in brackets), or None."""
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})", value) \
        if isinstance(value, str) else None
    if match is None or int(match.group(2)) > 65535:
        return f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080)"
    return None


def split_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _check_kind(kind: str, fail: Any, key: str) -> None:
    from monitor.sources import KINDS  # the registry of adapters

    if kind not in KINDS:
        raise fail(key, f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")


def _check_channels_and_cluster(config: Config) -> None:
    """Build the [[alerts]] channels and read [cluster] as their users will, so a bad
    table is refused at load (by every command, `init` first) and not when an alert is
    due. Imported only when there is something to check: the alert channels cost a
    tenth of a second to import."""
    if config.alerts:
        from monitor.alerts.channels import routes

        routes(config)
    if config.cluster:
        from monitor.cluster.settings import cluster_settings

        cluster_settings(config)
    if config.evidence:
        from monitor.evidence.settings import evidence_settings

        evidence_settings(config)
    if config.render:
        from monitor.render.settings import render_settings

        render_settings(config)
