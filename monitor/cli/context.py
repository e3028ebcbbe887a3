"""What every command shares: the configuration and the store, opened lazily."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import click

from monitor.config import Config, load_config
from monitor.store import EventStore, open_store


@dataclass
class AppContext:
    config_path: str | None
    database_url: str | None
    debug: bool
    _config: Config | None = field(default=None, repr=False)
    _store: EventStore | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def url(self) -> str:
        return self.database_url or self.config.database_url

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()
            self._store = None

    def store(self, check_schema: bool = True) -> EventStore:
        if self._store is None:
            self._store = open_store(self.url, check_schema=check_schema)
        return self._store


pass_app = click.make_pass_decorator(AppContext)

format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format; json is for scripts.",
)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
