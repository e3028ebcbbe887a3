"""Whole pages as given (a real page's HTML, or one written by a test), on 127.0.0.1,
with noise around the article put in on every load.

`/page/{n}` answers page n's HTML with, on each load: a CSRF token in the head and
in a script, a clock and a rotating banner just after `<body>`, and a shuffled "most
read" list just before `</body>`. The article itself is served as it is, so that
what is measured on these pages is the extraction of the article: whether every
paragraph of it is read, whether an edit in it is seen, and whether the noise stays
out. Pages can be set and replaced while the site runs.
"""

from __future__ import annotations

import html
import re
import threading

from monitor.replica.noise import Noise
from monitor.replica.server import ReplicaServer, Reply, Request

_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)
_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_BANNERS = ("Apply online for public services", "New hotline for citizens: 1414",
            "Subscribe to our newsletter", "Take part in the public survey")
_MOST_READ = ("Heating season starts on 1 October", "New rules for parking in the centre",
              "Schools announce the winter holidays", "Road repairs on Abay Avenue finished",
              "Vaccination points open on Saturdays")


class ArticleSite(ReplicaServer):
    """Pages given whole; `noise=False` serves them byte for byte."""

    def __init__(self, *, noise: bool = True, seed: int = 0,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.noise = Noise(enabled=noise, seed=seed)
        self.with_noise = noise
        self._lock = threading.Lock()
        self._pages: dict[int, str] = {}

    def page_url(self, n: int) -> str:
        return f"{self.base_url}/page/{n}"

    def set_page(self, n: int, markup: str) -> str:
        with self._lock:
            self._pages[n] = markup
        return self.page_url(n)

    def page(self, n: int) -> str | None:
        with self._lock:
            return self._pages.get(n)

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        markup = None
        if len(parts) == 2 and parts[0] == "page" and parts[1].isdigit():
            markup = self.page(int(parts[1]))
        if markup is None:
            return Reply.html(404, "<html><body><h1>Not found</h1></body></html>")
        return Reply.html(200, self.noisy(markup) if self.with_noise else markup)

    def noisy(self, markup: str) -> str:
        """`markup` with this load's noise around its content."""
        noise = self.noise
        token = noise.token()
        top = (f'<div class="topbar"><span class="clock">Server time: {noise.clock()}</span> '
               f'<a class="promo" href="/promo">{html.escape(noise.sample(_BANNERS, 1)[0])}'
               "</a></div>")
        items = "".join(f'<li><a href="/news/{i}">{html.escape(t)}</a></li>'
                        for i, t in enumerate(noise.shuffled(_MOST_READ)))
        bottom = (f'<div class="most-read"><h3>Most read</h3><ul>{items}</ul></div>'
                  f'<script>window.csrf = "{token}";</script>')
        meta = f'<meta name="csrf-token" content="{token}">'
        markup = _insert_after(_HEAD_OPEN, markup, meta)
        markup = _insert_after(_BODY_OPEN, markup, top) if _BODY_OPEN.search(markup) else (
            top + markup)
        found = _BODY_CLOSE.search(markup)
        if found is None:
            return markup + bottom
        return markup[:found.start()] + bottom + markup[found.start():]


def _insert_after(pattern: re.Pattern[str], markup: str, text: str) -> str:
    found = pattern.search(markup)
    return markup if found is None else markup[:found.end()] + text + markup[found.end():]
