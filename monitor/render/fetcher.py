"""The rendering fetcher: answers `get` as monitor.fetch's Fetcher does, with the page
as a browser left it (its DOM after the scripts ran) instead of the bytes the server
sent. The html adapter reads it as it reads any page: the same extraction, masks,
page key and learning. Chosen per source (`render = true`) by the check."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Collection, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any

from requests.cookies import RequestsCookieJar

from monitor import trace
from monitor.addresses import AddressPolicy
from monitor.errors import FetchFailed
from monitor.fetch import Fetcher, FetchSettings
from monitor.netguard import fetch_scope
from monitor.politeness import HostGate
from monitor.render.page import Job
from monitor.render.pool import BrowserPool
from monitor.render.response import Rendered
from monitor.render.settings import RenderSettings
from monitor.sources.base import Validators


class RenderingFetcher(Fetcher):
    """`get` renders; `post` stays plain HTTP. Its per-host gates are those of
    `shares` (the process's plain fetcher), so a host is treated alike whether its
    pages are rendered or not."""

    def __init__(self, settings: FetchSettings, render: RenderSettings, *,
                 shares: Fetcher | None = None, addresses: AddressPolicy | None = None) -> None:
        super().__init__(settings, addresses=addresses)
        self._shares = shares or self
        if shares is not None:
            self._gates, self._gates_lock = shares._gates, shares._gates_lock
        # The browser keeps each page's cookies in its own context; the relay keeps none.
        self.session.cookies = RequestsCookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.render = render
        self.pool = BrowserPool(render, self)

    def get(
        self,
        url: str,
        *,
        validators: Validators | None = None,  # not used: a browser asks afresh
        headers: Mapping[str, str] | None = None,
        accept: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain"),
        allow_status: Collection[int] = (),
        ca_bundle: str | None = None,
    ) -> Rendered:
        """The page at `url` rendered. Raises FetchFailed as a plain get does (a 404 is
        `not_found`), and `timeout` for a page not done within [render] timeout."""
        with fetch_scope(self.addresses, min(self.render.timeout, self.settings.deadline)) as s:
            seconds = (s.ends_at - time.monotonic()) if s.ends_at is not None else s.seconds
        started = time.monotonic()
        loaded = self.pool.render(Job(url=url, seconds=max(0.0, seconds or 0.0),
                                      wait=self.render.wait, headers=dict(headers or {}),
                                      ca_bundle=ca_bundle))
        main = loaded.main
        html = loaded.html.encode("utf-8")
        if len(html) > self.settings.max_bytes:  # a script can build a DOM of any size
            raise FetchFailed("too_large", f"{loaded.url}: the rendered page is larger than "
                              f"{self.settings.max_bytes} bytes ([fetch] max_bytes)",
                              status=main.status)
        trace.answered(main.status, html)
        return Rendered(
            url=loaded.url, status=main.status, headers=main.headers,
            content=html, content_type="text/html", charset="utf-8",
            redirects=loaded.redirects, elapsed_ms=round((time.monotonic() - started) * 1000),
            screenshot=loaded.screenshot, layout=loaded.layout, main_document=main.body,
            rendered={"browser": loaded.browser,
                      "main_document": {"status": main.status,
                                        "content_type": main.content_type or None},
                      "blocked": loaded.blocked})

    def main_gate(self, url: str) -> Any:
        """The gate a page's main document waits at: the plain fetcher's, whatever it
        is (a queue worker's holds across the cluster: monitor.cluster.politeness)."""
        return self._shares._gate(url)

    def page_gate(self, url: str) -> HostGate:
        """This process's gate of the host, for what a page asks of its own site."""
        return Fetcher._gate(self, url)

    def close(self) -> None:
        self.pool.close()
        super().close()


_shared: dict[tuple[int, RenderSettings, Fetcher], RenderingFetcher] = {}
_shared_lock = threading.Lock()


def shared_renderer(render: RenderSettings, plain: Fetcher) -> RenderingFetcher:
    """The process's rendering fetcher for these settings (one browser pool for every
    checker of the process), sharing `plain`'s per-host gates. A forked process makes
    its own: the browsers belong to the process that started them."""
    import os

    key = (os.getpid(), render, plain)  # its host gates (a cluster's too) are shared
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = RenderingFetcher(plain.settings, render, shares=plain,
                                                    addresses=plain.addresses)
        return found


@atexit.register
def _close_shared() -> None:
    import os

    with _shared_lock:
        mine = [f for (pid, _, _), f in _shared.items() if pid == os.getpid()]
        _shared.clear()
    for renderer in mine:
        renderer.close()
