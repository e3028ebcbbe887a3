"""What every request of the web app shares: the configuration, the store and the
templates. One per process; no request state lives here, so `monitor serve` can run
as many processes as wanted against one PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from monitor.config import Config
from monitor.store import EventStore


@dataclass
class WebContext:
    config: Config
    store: EventStore
    secure_cookies: bool  # served behind TLS: cookies are `Secure`

    @property
    def engine(self) -> Engine:
        return self.store.engine

    @property
    def public_url(self) -> str | None:
        return self.config.public_url


def web(request: Request) -> WebContext:
    found: WebContext = request.app.state.web
    return found


def site_url(request: Request) -> str:
    """The app's base URL, without a trailing slash: `[web] public_url` when set (links
    that leave the app, in feeds and downloads, must work from elsewhere), else the
    address the request came to."""
    return (web(request).public_url or str(request.base_url)).rstrip("/")
