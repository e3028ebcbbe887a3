"""The replica's content: gov.kz articles per (id, language), behind one lock.

Bodies are kept as the HTML that gov.kz's CMS would hold; plain paragraphs given by
a test are written the way that CMS writes them, with named entities for typographic
characters, so an extractor has to decode them to get the text back.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

LANGUAGES = ("ru", "kk", "en")
SECTIONS = ("news", "events", "documents")

_ENTITIES = {
    "\u2013": "&ndash;",
    "\u2014": "&mdash;",
    "\u00ab": "&laquo;",
    "\u00bb": "&raquo;",
    "\u201c": "&ldquo;",
    "\u201d": "&rdquo;",
    "\u2018": "&lsquo;",
    "\u2019": "&rsquo;",
    "\u00a0": "&nbsp;",
}


def paragraph_html(text: str) -> str:
    """One paragraph as the CMS writes it: escaped, typographic characters as entities."""
    escaped = html.escape(text, quote=False)
    return "".join(_ENTITIES.get(ch, ch) for ch in escaped)


def body_from_paragraphs(paragraphs: list[str]) -> str:
    return "".join(f'<p style="text-align: justify;">{paragraph_html(p)}</p>' for p in paragraphs)


def plain_text(body_html: str) -> str:
    """Rough text of a body, for the API's short_description only."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", body_html))
    return " ".join(text.split())


def slugify(title: str) -> str:
    return re.sub(r"\W+", "-", title.lower()).strip("-")[:80]


@dataclass(frozen=True)
class Article:
    entity: str
    article_id: str
    lang: str
    title: str
    body_html: str
    created_date: str  # "2025-12-11T10:15:00.000+05:00"
    section: str = "news"
    slug: str = ""  # set once, as the CMS does: a later title edit keeps it
    files: tuple[str, ...] = ()  # a document's attached files (paths on the site)
    directions: tuple[int, ...] = (7,)  # the topics it is filed under

    @property
    def url_slug(self) -> str:
        return self.slug or slugify(self.title)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_date)


class ArticleStore:
    """Thread-safe (id, lang) -> Article."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._articles: dict[tuple[str, str], Article] = {}

    def put(self, article: Article) -> None:
        if article.lang not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {article.lang!r}")
        if article.section not in SECTIONS:
            raise ValueError(f"section must be one of {SECTIONS}, not {article.section!r}")
        article.created  # noqa: B018 - validates the date before it is served
        if not article.slug:  # named once, from the first title
            article = replace(article, slug=slugify(article.title))
        with self._lock:
            self._articles[(article.article_id, article.lang)] = article

    def edit(self, article_id: str, lang: str, **changes: Any) -> Article:
        with self._lock:
            key = (article_id, lang)
            if key not in self._articles:
                raise KeyError(f"no article {article_id} in {lang!r}")
            article = replace(self._articles[key], **changes)
            article.created  # noqa: B018
            self._articles[key] = article
            return article

    def remove(self, article_id: str, lang: str | None = None) -> int:
        with self._lock:
            keys = [k for k in self._articles if k[0] == article_id and lang in (None, k[1])]
            for key in keys:
                del self._articles[key]
            return len(keys)

    def get(self, article_id: str, lang: str, section: str = "news") -> Article | None:
        with self._lock:
            article = self._articles.get((article_id, lang))
        return article if article is not None and article.section == section else None

    def listing(self, entity: str | None, lang: str, section: str = "news",
                direction: int | None = None) -> list[Article]:
        """Articles of one ministry (entity), or of any under a topic (direction)."""
        with self._lock:
            found = [
                a
                for a in self._articles.values()
                if entity in (None, a.entity) and a.lang == lang and a.section == section
                and direction in (None, *a.directions)
            ]
        return found

    def by_slug(self, slug: str, entity: str | None, lang: str, section: str) -> list[Article]:
        return [a for a in self.listing(entity, lang, section) if a.url_slug == slug] \
            if entity else []

    def titles(self, lang: str) -> list[str]:
        with self._lock:
            return [a.title for a in self._articles.values() if a.lang == lang]
