"""A generic, deliberately noisy HTML site for the `html` adapter, on 127.0.0.1.

Pages `/page/{n}` (1..pages) have a header with a clock, navigation, a rotating
banner, an article (h1, a date with a "Views: 1234" counter beside it that changes
on every load, paragraphs), a rotating related block and a footer. Page text is
generated from the seed on demand, so 2,000 pages cost nothing until read; pages
can be set, edited and removed while the site runs.
"""

from __future__ import annotations

import hashlib
import html
import random
import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta

from monitor.replica.noise import Noise
from monitor.replica.server import ReplicaServer, Reply, Request

_WORDS = [
    "ministry",
    "agency",
    "council",
    "report",
    "budget",
    "program",
    "region",
    "citizens",
    "reform",
    "meeting",
    "policy",
    "service",
    "digital",
    "health",
    "education",
    "transport",
    "energy",
    "water",
    "housing",
    "safety",
    "court",
    "law",
    "decree",
    "plan",
    "results",
    "strategy",
    "support",
    "project",
    "funding",
    "partners",
    "international",
    "national",
    "public",
    "regional",
    "annual",
    "quarterly",
    "approved",
    "announced",
    "discussed",
    "reviewed",
    "presented",
    "implemented",
    "expanded",
    "improved",
    "measures",
    "standards",
    "access",
    "quality",
    "growth",
    "investment",
    "infrastructure",
    "cooperation",
    "development",
]
_BANNERS = (
    "Apply online for public services",
    "New hotline for citizens: 1414",
    "Subscribe to our newsletter",
    "Open data portal is now available",
    "Take part in the public survey",
)
_EPOCH = date(2024, 1, 1)


@dataclass(frozen=True)
class PageContent:
    title: str
    paragraphs: tuple[str, ...]
    published: str  # YYYY-MM-DD
    encoding: str = "utf-8"

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(repr(self).encode("utf-8")).hexdigest()[:20]
        return f'"{digest}"'


def generated_page(seed: int, n: int) -> PageContent:
    rng = random.Random(seed * 1_000_003 + n)

    def sentence(low: int, high: int) -> str:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
        return " ".join(words).capitalize()

    paragraphs = tuple(
        " ".join(sentence(8, 18) + "." for _ in range(rng.randint(2, 4)))
        for _ in range(rng.randint(3, 6))
    )
    published = _EPOCH + timedelta(days=rng.randint(0, 700))
    return PageContent(f"{sentence(4, 8)} (No. {n})", paragraphs, published.isoformat())


class NoisySite(ReplicaServer):
    """A noisy HTML site. `etags=True` makes it send ETags of the content (not of the
    noise) and answer 304 to a matching If-None-Match."""

    def __init__(
        self,
        *,
        pages: int = 20,
        seed: int = 0,
        noise: bool = True,
        etags: bool = False,
        charset_in_header: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.pages = pages
        self.seed = seed
        self.noise = Noise(enabled=noise, seed=seed)
        self.etags = etags
        self.charset_in_header = charset_in_header
        self._lock = threading.Lock()
        self._overrides: dict[int, PageContent] = {}
        self._removed: set[int] = set()

    def page_url(self, n: int) -> str:
        return f"{self.base_url}/page/{n}"

    # -- content control -----------------------------------------------------------

    def page(self, n: int) -> PageContent | None:
        """What page `n` says now (None if it does not exist)."""
        with self._lock:
            if n in self._removed:
                return None
            if n in self._overrides:
                return self._overrides[n]
        return generated_page(self.seed, n) if 1 <= n <= self.pages else None

    def set_page(
        self,
        n: int,
        title: str,
        paragraphs: list[str],
        *,
        published: str = "2025-11-03",
        encoding: str = "utf-8",
    ) -> str:
        with self._lock:
            self._removed.discard(n)
            self._overrides[n] = PageContent(title, tuple(paragraphs), published, encoding)
        return self.page_url(n)

    def edit_page(
        self,
        n: int,
        *,
        title: str | None = None,
        paragraphs: list[str] | None = None,
        published: str | None = None,
    ) -> None:
        current = self.page(n)
        if current is None:
            raise KeyError(f"no page {n}")
        changed = replace(
            current,
            title=current.title if title is None else title,
            paragraphs=current.paragraphs if paragraphs is None else tuple(paragraphs),
            published=current.published if published is None else published,
        )
        with self._lock:
            self._overrides[n] = changed

    def remove_page(self, n: int) -> None:
        with self._lock:
            self._removed.add(n)

    # -- serving -------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        content = None
        if len(parts) == 2 and parts[0] == "page" and parts[1].isdigit():
            content = self.page(int(parts[1]))
        if content is None:
            return Reply.html(404, "<html><body><h1>Not found</h1></body></html>")
        headers: list[tuple[str, str]] = []
        if self.etags:
            headers.append(("ETag", content.etag))
            if content.etag in request.header("if-none-match"):
                return Reply(304, b"", "text/html", headers)
        body = self._render(int(parts[1]), content).encode(
            content.encoding, errors="xmlcharrefreplace"
        )
        content_type = "text/html"
        if self.charset_in_header:
            content_type += f"; charset={content.encoding}"
        return Reply(200, body, content_type, headers)

    def _render(self, n: int, page: PageContent) -> str:
        noise = self.noise
        title = html.escape(page.title)
        shown_date = date.fromisoformat(page.published).strftime("%d %B %Y").lstrip("0")
        related = "".join(
            f'<li><a href="/page/{i}">{html.escape(generated_page(self.seed, i).title)}</a></li>'
            for i in noise.sample(range(1, max(2, self.pages + 1)), 3)
        )
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in page.paragraphs)
        token = noise.token()
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="{page.encoding}">'
            f"<title>{title} | Example Agency</title>"
            f'<meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="{page.published}">'
            f'<meta name="csrf-token" content="{token}">'
            f'<link rel="stylesheet" href="/static/site.css?v={noise.asset_version()}">'
            f'<script src="/static/app.js?v={noise.asset_version()}"></script></head><body>'
            '<header><a class="logo" href="/">Example Agency</a>'
            '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/contacts">Contacts</a>'
            f'</nav><div class="clock">Server time: {noise.clock()}</div></header>'
            f'<div class="banner"><a href="/promo">{noise.sample(_BANNERS, 1)[0]}</a></div>'
            f'<main><article><h1>{title}</h1><p class="info">'
            f'<time datetime="{page.published}">{shown_date}</time> · '
            f'<span class="views">Views: {noise.views(str(n))}</span></p>'
            f"{paragraphs}</article>"
            f'<aside class="related"><h2>Related</h2><ul>{related}</ul></aside></main>'
            f'<footer><p>© Example Agency. <span class="generated">Generated at '
            f"{noise.timestamp()}</span></p></footer>"
            f'<script>window.csrf = "{token}";</script></body></html>'
        )
