"""The web app served for real on 127.0.0.1 (uvicorn in a thread), and a client that
signs in like a browser: it reads each form's CSRF token from the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import requests

from monitor.config import Config
from monitor.store import EventStore
from monitor.web.accounts.tokens import create_token
from monitor.web.accounts.users import add_user
from monitor.web.app import create_app
from monitor.web.server import WebThread, base_url, bind

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Served:
    url: str
    store: EventStore
    config: Config

    def client(self, name: str | None = None) -> Client:
        """A browser-like client, signed in as `name` when given."""
        client = Client(self.url)
        if name is not None:
            client.sign_in(name)
        return client

    def user(self, name: str, role: str) -> Client:
        """Adds the user `name` with `role` and returns a client signed in as them."""
        add_user(self.store.engine, name, role, PASSWORD)
        return self.client(name)

    def token(self, name: str, role: str) -> str:
        add_user(self.store.engine, name, role, None)
        return create_token(self.store.engine, name)[1]


class Client(requests.Session):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path)
        found = CSRF.search(page.text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def submit(self, path: str, data: dict[str, Any], form_page: str | None = None,
               **kwargs: Any) -> requests.Response:
        """POSTs `data` with the CSRF token of `form_page` (default: the board)."""
        token = self.csrf(form_page or "/")
        return self.post(path, data={**data, "csrf": token}, **kwargs)

    def sign_in(self, name: str, password: str = PASSWORD) -> requests.Response:
        answer = self.post("/login", data={"name": name, "password": password,
                                           "csrf": self.csrf("/login")}, allow_redirects=False)
        assert answer.status_code == 303, answer.text[:500]
        return answer


@contextmanager
def serve(store: EventStore, config: Config | None = None, **changes: Any) -> Iterator[Served]:
    """The app on a free loopback port for the duration of the block."""
    config = config or Config(path=None, database_url=str(store.engine.url))
    if changes:
        config = replace(config, **changes)
    sock = bind("127.0.0.1:0")
    thread = WebThread(create_app(config, store), sock).start()
    try:
        yield Served(base_url(sock), store, config)
    finally:
        thread.stop()
