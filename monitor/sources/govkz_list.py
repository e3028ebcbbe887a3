"""Adapter for a gov.kz ministry's press list: which releases it lists now."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from monitor.errors import FetchFailed
from monitor.normalize import normalize_document, normalize_text
from monitor.sources.base import (
    Capture,
    ListedItem,
    NotModified,
    SourceAdapter,
    SourceSpec,
    Validators,
)
from monitor.sources.govkz import published_in_astana
from monitor.sources.govkz_api import GovkzApi
from monitor.sources.govkz_urls import ListAddress, article_page_url, list_address

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

DEFAULT_SIZE = 20


class GovkzList(SourceAdapter):
    """A gov.kz ministry's press list: give its page URL
    (https://www.gov.kz/memleket/entities/ENTITY/press/news?lang=ru|kk|en) or the API
    list URL. Captures the newest releases (options.size, default 20) as items, and as
    a document of "YYYY-MM-DD title (id)" lines, so additions and removals show."""

    kind = "govkz-list"
    lists_items = True
    item_kind = "govkz"  # each release is read by the gov.kz article adapter

    def __init__(self, api: GovkzApi | None = None) -> None:
        self.api = api or GovkzApi()

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        size = int(spec.options.get("size", DEFAULT_SIZE))
        address = list_address(spec.url, spec.language, size)
        data, answer = self.api.get_json(
            fetcher,
            address.api_url,
            origin=address.origin,
            language=address.language,
            ca_bundle=spec.ca_bundle,
        )
        if isinstance(data, dict) and isinstance(data.get("content"), list):
            data = data["content"]  # a paged wrapper, should the API grow one
        if not isinstance(data, list):
            raise FetchFailed("parse", f"{answer.url}: expected a list of articles")
        listed = [_listed(entry, address) for entry in data]
        malformed = sum(item is None for item in listed)
        if malformed:
            # One malformed entry fails the whole answer (kind `parse`): keeping only the
            # good entries would record a version that lost articles, and when the API
            # recovered they would be "published" again (two false alert rounds). The
            # API lists whole articles or fails; a partial answer is a failing back end.
            raise FetchFailed("parse", f"{answer.url}: {malformed} of the {len(data)} "
                                       "entries listed is not an article with an id and "
                                       "a title")
        items = tuple(item for item in listed if item is not None)
        lines = [f"{i.published or '????-??-??'} {i.title} ({i.item_id})" for i in items]
        document = normalize_document(
            f"gov.kz {address.entity or 'topic'} press releases ({address.language})", None, lines
        )
        return Capture(
            document=document,
            final_url=spec.url,
            raw=answer.content,
            content_type=answer.content_type,
            redirects=answer.redirects,
            items=items,
            evidence={"api_url": answer.url,
                      "challenge": self.api.passed_with(address.origin) or "none"},
        )


def _listed(entry: Any, address: ListAddress) -> ListedItem | None:
    """One list entry, or None when it is not an article: no id (nothing to follow)
    or no title (what the list shows of it; an entry like `{"id": 1}` is the answer
    of a failing back end, not news)."""
    if not isinstance(entry, dict) or entry.get("id") is None:
        return None
    item_id = normalize_text(str(entry["id"]))  # as the list's text shows it, or it is never seen
    if not item_id:
        return None
    title = entry.get("title")
    title = normalize_text(html.unescape(title)) if isinstance(title, str) else ""
    if not title:
        return None
    created = entry.get("created_date")
    projects = entry.get("projects")  # a `directions` list spans ministries
    entity = projects if isinstance(projects, str) and projects else address.entity
    if not entity:  # no page to follow it to
        return None
    return ListedItem(
        item_id=item_id,
        url=article_page_url(address.origin, entity, item_id, address.language),
        title=title,
        published=published_in_astana(created) if isinstance(created, str) else None,
    )
