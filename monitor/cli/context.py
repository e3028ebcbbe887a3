"""What every command shares: the configuration and the store, opened lazily."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from monitor.config import Config, load_config
from monitor.errors import SchemaError, UsageError
from monitor.moments import utc_iso
from monitor.store import EventStore, open_store
from monitor.untrusted import json_text


@dataclass
class AppContext:
    config_path: str | None
    database_url: str | None
    debug: bool
    _config: Config | None = field(default=None, repr=False)
    _store: EventStore | None = field(default=None, repr=False)
    _reader: EventStore | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def url(self) -> str:
        return self.database_url or self.config.database_url

    def close(self) -> None:
        for opened in (self._store, self._reader):
            if opened is not None:
                opened.engine.dispose()
        self._store = self._reader = None

    def store(self, check_schema: bool = True, *, read_only: bool = False,
              threads: int | None = None) -> EventStore:
        """The store, opened once per command. `read_only` for commands that only look:
        nothing can be written through it, so they work on a write-protected copy of
        the evidence and cannot change it by mistake. `threads`: the checks the
        command runs at once, for the connection pool (the first call's counts)."""
        if read_only:
            if self._reader is None:
                self._require_sqlite_file()
                self._reader = open_store(self.url, read_only=True)
            return self._reader
        if self._store is None:
            if check_schema:
                self._require_sqlite_file()
            self._store = open_store(self.url, check_schema=check_schema, threads=threads)
        return self._store

    def refuse_store_file(self, output: Path) -> None:
        """A command's --output must not replace the store's SQLite file (or its
        journal): `show … --raw -o var/monitor.db` would swap the evidence for a page."""
        url = make_url(self.url) if "://" in self.url else None
        if url is None or url.get_backend_name() != "sqlite" or not url.database or \
                url.database == ":memory:":
            return
        database = Path(url.database).resolve()
        own = {database, *(database.with_name(database.name + tail)
                           for tail in ("-wal", "-shm", "-journal"))}
        if output.resolve() in own:
            raise UsageError(f"{output} is the store's database: not replaced (choose "
                             "another file)")

    def _require_sqlite_file(self) -> None:
        """A command that reads the store must not create an empty one by accident."""
        url = make_url(self.url) if "://" in self.url else None
        if url is None or url.get_backend_name() != "sqlite" or url.database in (None, "",
                                                                             ":memory:"):
            return
        path = Path(url.database)
        if path.exists():
            return
        if self.config.path is not None:
            raise SchemaError(f"no store at {path} (the database of {self.config.path}); "
                              "run `monitor init` to create it")
        raise SchemaError(f"no store at {path} and no monitor.toml here: pass --config FILE "
                          "(or set $MONITOR_CONFIG), or run `monitor init` to start a store here")


pass_app = click.make_pass_decorator(AppContext)

format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format; json is for scripts.",
)

metrics_port_option = click.option(
    "--metrics-port", type=click.IntRange(1, 65535), default=None, metavar="PORT",
    help="Serve Prometheus /metrics on this port (overrides [cluster] metrics_port; each "
         "process on a host needs its own).")


def echo_json(value: Any) -> None:
    click.echo(json_text(json.dumps(value, ensure_ascii=False, indent=2, default=_json_value)))


def _json_value(value: Any) -> str:
    """Moments as RFC 3339 with a Z, as `events --json` writes them; anything else
    as its text."""
    return utc_iso(value) if isinstance(value, datetime) else str(value)
