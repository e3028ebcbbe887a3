"""The app for `monitor serve` (and any ASGI server): `monitor.web.asgi:from_environment`
is a factory reading $MONITOR_CONFIG and $MONITOR_DATABASE_URL, as every command does."""

from __future__ import annotations

from fastapi import FastAPI

from monitor.config import load_config
from monitor.store import open_store
from monitor.web.app import create_app


def from_environment() -> FastAPI:
    config = load_config(None)
    return create_app(config, open_store(config.database_url))
