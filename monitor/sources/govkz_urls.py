"""gov.kz addresses: from a page URL to its JSON API URL, and back.

The API lives on the page's own origin (scheme, host and port), so a replica on
http://127.0.0.1:PORT is addressed exactly like https://www.gov.kz.

    /memleket/entities/{entity}/press/news/details/{id}?lang=en   article page
    /memleket/entities/{entity}/press/news?lang=en                 press list page
    /memleket/entities/{entity}/press/news/2?lang=kk               its page 2
    /api/v1/public/content-manager/news/{id}                       article (JSON)
    /api/v1/public/content-manager/news?slug=eq:{slug}&projects=eq:{entity}
                                                 article by slug (JSON list, first item)
    /api/v1/public/content-manager/news?projects=eq:{entity}&…     list (JSON)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from monitor.errors import ConfigError, FetchFailed

LANGUAGES = ("ru", "kk", "en")
DEFAULT_LANGUAGE = "ru"
_API = "/api/v1/public/content-manager"
# Page section in the URL -> content-manager collection.
_SECTIONS = {"press/news": "news", "press/events": "events", "documents": "documents"}
_PAGE_SECTIONS = {collection: section for section, collection in _SECTIONS.items()}

_ARTICLE_PAGE = re.compile(
    r"^/memleket/entities/(?P<entity>[^/]+)/(?P<section>press/news|press/events|documents)"
    r"/details/(?P<id>[^/]+)/?$"
)
_ARTICLE_API = re.compile(rf"^{_API}/(?P<collection>news|events|documents)/(?P<id>[^/]+)/?$")
_LIST_PAGE = re.compile(
    r"^/memleket/entities/(?P<entity>[^/]+)/(?P<section>press/news)(?:/(?P<page>\d{1,6}))?/?$"
)
_LIST_API = re.compile(rf"^{_API}/(?P<collection>news)/?$")


@dataclass(frozen=True)
class ArticleAddress:
    origin: str  # scheme://host[:port]
    collection: str  # "news" or "documents"
    item_id: str
    language: str
    entity: str | None  # unknown when given an API URL; the item names it

    @property
    def is_slug(self) -> bool:
        """A page URL may end in the article's slug instead of its numeric id; the
        portal's public clients look a slug up in the list endpoint, never by path."""
        return not self.item_id.isdigit() and self.entity is not None

    @property
    def api_url(self) -> str:
        if self.is_slug:
            return (f"{self.origin}{_API}/{self.collection}?slug=eq:{quote(self.item_id)}"
                    f"&projects=eq:{quote(self.entity or '')}")
        return self.item_url(self.item_id)

    def item_url(self, item_id: str) -> str:
        return f"{self.origin}{_API}/{self.collection}/{quote(item_id)}"

    def page_url(self, entity: str | None = None) -> str:
        return article_page_url(
            self.origin, entity or self.entity or "", self.item_id, self.language, self.collection
        )


@dataclass(frozen=True)
class ListAddress:
    origin: str
    entity: str
    language: str
    api_url: str


def article_page_url(
    origin: str, entity: str, item_id: str, language: str, collection: str = "news"
) -> str:
    section = _PAGE_SECTIONS[collection]
    return f"{origin}/memleket/entities/{entity}/{section}/details/{item_id}?lang={language}"


def article_address(url: str, language: str | None = None) -> ArticleAddress:
    origin, path, query = _split(url)
    if match := _ARTICLE_PAGE.match(path):
        return ArticleAddress(
            origin,
            _SECTIONS[match["section"]],
            match["id"],
            _language(language, query),
            match["entity"],
        )
    if match := _ARTICLE_API.match(path):
        return ArticleAddress(
            origin, match["collection"], match["id"], _language(language, query), None
        )
    raise FetchFailed(
        "invalid_url",
        f"{url} is not a gov.kz article URL "
        "(…/memleket/entities/ENTITY/press/news/details/ID?lang=xx)",
    )


def list_address(url: str, language: str | None = None, size: int = 20) -> ListAddress:
    origin, path, query = _split(url)
    if match := _LIST_PAGE.match(path):
        entity = match["entity"]
        page = max(1, int(match["page"] or 1))  # the page number public list URLs carry
        api_url = (
            f"{origin}{_API}/news?sort-by=created_date:DESC"
            f"&projects=eq:{quote(entity)}{_directions(query)}&page={page}&size={size}"
        )
        return ListAddress(origin, entity, _language(language, query), api_url)
    if _LIST_API.match(path):
        projects = query.get("projects", "")
        if projects.startswith("eq:") and projects[3:]:
            return ListAddress(origin, projects[3:], _language(language, query), url)
        if query.get("directions"):  # a topic across ministries: each item names its own
            return ListAddress(origin, "", _language(language, query), url)
    raise FetchFailed(
        "invalid_url",
        f"{url} is not a gov.kz press list URL "
        "(…/memleket/entities/ENTITY/press/news?lang=xx, or the API list URL)",
    )


def _directions(query: dict[str, str]) -> str:
    """A list page's `directions` (a topic) passed on to the API as `directions=eq:ID`."""
    value = query.get("directions", "")
    if not value:
        return ""
    return f"&directions={quote(value if value.startswith('eq:') else 'eq:' + value, safe=':')}"


def _split(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchFailed("invalid_url", f"{url!r} is not an http(s) URL")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}", parts.path, query


def url_language(url: str) -> str | None:
    """The language a gov.kz URL names in its `lang`, or None when it names none."""
    value = parse_qs(urlsplit(url).query).get("lang", [""])[-1].lower()
    return value or None


def _language(override: str | None, query: dict[str, str]) -> str:
    """The source's configured language wins over the URL's `lang`."""
    known = ", ".join(LANGUAGES)
    if override:
        if override.lower() not in LANGUAGES:
            raise ConfigError(f"gov.kz language must be one of {known}, not {override!r}")
        return override.lower()
    language = query.get("lang", DEFAULT_LANGUAGE).lower()
    if language not in LANGUAGES:
        raise FetchFailed("invalid_url", f"gov.kz lang must be one of {known}, not {language!r}")
    return language
