"""Adapter for one gov.kz press release (or document), read through the portal's API."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.normalize import normalize_document
from monitor.removal import API_NULL
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.blocks import fragment_paragraphs
from monitor.sources.govkz_api import GovkzApi
from monitor.sources.govkz_urls import article_address

if TYPE_CHECKING:
    from monitor.fetch import Fetcher


class GovkzArticle(SourceAdapter):
    """A gov.kz press release: give its page URL
    (https://www.gov.kz/memleket/entities/ENTITY/press/news/details/ID?lang=ru|kk|en).
    The page itself is a JavaScript shell, so the text is read from the portal's JSON
    API on the same host, passing its bot challenge; `language` overrides the URL's."""

    kind = "govkz"

    def __init__(self, api: GovkzApi | None = None) -> None:
        self.api = api or GovkzApi()

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        address = article_address(spec.url, spec.language)
        item, answer = self.api.get_json(
            fetcher,
            address.api_url,
            origin=address.origin,
            language=address.language,
            ca_bundle=spec.ca_bundle,
        )
        if item is None or (isinstance(item, dict) and list(item) == ["data"]
                            and item["data"] is None):
            said = "null" if item is None else '{"data": null}'
            raise FetchFailed("not_found", f"{answer.url} answered {said} for the article",
                              status=answer.status,
                              judged_by=API_NULL,
                              evidence={"final_url": answer.url, "status": answer.status,
                                        "answer": said})
        if not isinstance(item, dict):
            raise FetchFailed("parse", f"{answer.url}: expected an article object")
        missing = [key for key in ("title", "body") if not isinstance(item.get(key), str)]
        if missing:  # `{}`, or an error object: not an article that lost its text
            raise FetchFailed("parse", f"{answer.url}: the answer is not an article "
                                       f"(no {' and no '.join(missing)})")
        projects = item.get("projects")
        return Capture(
            document=item_document(item),
            final_url=address.page_url(projects if isinstance(projects, str) else None),
            raw=answer.content,
            content_type=answer.content_type,
            redirects=answer.redirects,
        )


def item_document(item: dict[str, Any]) -> Document:
    """An API item as a Document: title, created_date, the body's paragraphs."""
    title = item.get("title")
    body = item.get("body")
    created = item.get("created_date")
    return normalize_document(
        html.unescape(title) if isinstance(title, str) else None,
        created if isinstance(created, str) else None,
        fragment_paragraphs(body) if isinstance(body, str) else [],
    )
