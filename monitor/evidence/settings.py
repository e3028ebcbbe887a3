"""The `[evidence]` table of monitor.toml, checked, every problem naming file and key.

    [evidence]
    checkpoint_every = "1h"        # the daemon signs a checkpoint this often ...
    checkpoint_events = 1000       # ... and after this many new events, whichever first
    witness_file = "var/witness.jsonl"        # default: beside the store
    key_file = "var/keys/checkpoint.ed25519"  # default: beside the store
    tsa_url = "https://freetsa.org/tsr"      # optional: an RFC 3161 timestamp per checkpoint
    tsa_ca_file = "tsa-ca.pem"               # the TSA's CA: `verify` checks tokens with it

"Beside the store" is the SQLite file's folder; for PostgreSQL, `var/` beside the
configuration file (or the working directory when there is none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.validation import parse_duration

KEYS = frozenset({"checkpoint_every", "checkpoint_events", "witness_file", "key_file",
                  "tsa_url", "tsa_ca_file"})
MIN_EVERY = 60.0  # seconds: a checkpoint a minute is already more than anyone reads


@dataclass(frozen=True)
class EvidenceSettings:
    key_file: Path
    witness_file: Path
    checkpoint_every: float = 3600.0  # seconds
    checkpoint_events: int = 1000
    tsa_url: str | None = None
    tsa_ca_file: Path | None = None


def evidence_settings(config: Config, database_url: str | None = None) -> EvidenceSettings:
    """The checked settings; paths default beside the store at `database_url` (the
    configured one when not given)."""
    raw: dict[str, Any] = config.evidence
    where = str(config.path) if config.path else "configuration"

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: evidence.{key}: {problem}")

    for key in raw:
        if key not in KEYS:
            raise fail(key, f"unknown key (known: {', '.join(sorted(KEYS))})")
    try:
        every = parse_duration(raw.get("checkpoint_every", "1h"))
    except ValueError as exc:
        raise fail("checkpoint_every", str(exc)) from None
    if every < MIN_EVERY:
        raise fail("checkpoint_every", f"{raw['checkpoint_every']!r} is too short (at least 1m)")
    count = raw.get("checkpoint_events", 1000)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise fail("checkpoint_events", "must be a whole number >= 1")
    base = config.path.resolve().parent if config.path else Path.cwd()
    home = store_folder(database_url or config.database_url, base)

    def path(key: str, default: Path | None) -> Any:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise fail(key, "must be a non-empty path")
        given = Path(value).expanduser()
        return given if given.is_absolute() else base / given

    tsa_url = raw.get("tsa_url")
    if tsa_url is not None and not (isinstance(tsa_url, str) and _http_url(tsa_url)):
        raise fail("tsa_url", "must be an http:// or https:// address of an RFC 3161 "
                              "timestamp authority")
    return EvidenceSettings(
        key_file=path("key_file", home / "keys" / "checkpoint.ed25519"),
        witness_file=path("witness_file", home / "witness.jsonl"),
        checkpoint_every=every,
        checkpoint_events=count,
        tsa_url=tsa_url,
        tsa_ca_file=path("tsa_ca_file", None),
    )


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def store_folder(database_url: str, base: Path) -> Path:
    """The SQLite file's folder; `base`/var for any other store."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return base / "var"
    database = url.database
    if url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:"):
        return Path(str(database)).expanduser().resolve().parent
    return base / "var"
