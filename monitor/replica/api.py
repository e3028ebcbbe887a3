"""The JSON that gov.kz's content-manager API answers, built from replica articles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.replica.articles import Article, plain_text

_DEFAULT_LANGUAGE = "ru"


def request_language(accept_language: str) -> str:
    """gov.kz reads the language from Accept-Language: `ru`, `kk`, `en` (or `en-US,…`)."""
    first = accept_language.split(",")[0].strip().lower()[:2]
    return first if first in ("ru", "kk", "en") else _DEFAULT_LANGUAGE


def item_json(article: Article, views: int, *, body_as_document: bool) -> dict[str, Any]:
    """A news item keeps its text in `body`; a document (as the portal answers
    /documents/{id}) in `content`, with its files in `full_text[].document`."""
    body = article.body_html
    if body_as_document:
        body = f"<html><head></head><body>{body}</body></html>"
    numeric = article.article_id.isdigit()
    item: dict[str, Any] = {
        "id": int(article.article_id) if numeric else article.article_id,
        "slug": article.url_slug,
        "title": article.title,
        "short_description": plain_text(article.body_html)[:200],
        "created_date": article.created_date,
        "heropic": f"/uploads/{article.created:%Y/%m/%d}/{article.article_id}.jpg",
        "projects": article.entity,
        "directions": [{"id": d, "name": f"direction {d}"} for d in article.directions],
        "number_of_views": views,
        "views": views,
    }
    if article.section == "documents":
        item["content"] = body
        item["full_text"] = [{"lang": article.lang, "document": path} for path in article.files]
    else:
        item["body"] = body
    return item


def listing_page(articles: list[Article], query: Mapping[str, str]) -> list[Article]:
    """Sort (`sort-by=created_date:DESC`) and page (`page=1&size=20`) a listing."""
    field, _, direction = query.get("sort-by", "created_date:DESC").partition(":")
    descending = direction.upper() != "ASC"
    if field == "id":
        articles = sorted(articles, key=lambda a: a.article_id, reverse=descending)
    else:
        articles = sorted(articles, key=lambda a: a.created, reverse=descending)
    page = max(1, _int(query.get("page"), 1))
    size = min(100, max(1, _int(query.get("size"), 20)))
    return articles[(page - 1) * size : page * size]


def slug_filter(query: Mapping[str, str]) -> str | None:
    """`slug=eq:some-title` -> "some-title": how public clients find an article by slug."""
    value = query.get("slug", "")
    return value[3:] if value.startswith("eq:") else (value or None)


def listing_direction(query: Mapping[str, str]) -> int | None:
    """`directions=eq:7` -> 7."""
    value = query.get("directions", "").removeprefix("eq:")
    return int(value) if value.isdigit() else None


def listing_entity(query: Mapping[str, str]) -> str | None:
    """`projects=eq:mfa` -> "mfa"."""
    value = query.get("projects", "")
    return value[3:] if value.startswith("eq:") else (value or None)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
