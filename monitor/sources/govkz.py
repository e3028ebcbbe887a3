"""Adapter for one gov.kz press release (or document), read through the portal's API."""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.normalize import normalize_date, normalize_document
from monitor.removal import API_NULL
from monitor.sources.api_body import body_paragraphs
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.govkz_api import GovkzApi
from monitor.sources.govkz_urls import article_address
from monitor.sources.pagekey import item_key

if TYPE_CHECKING:
    from monitor.fetch import Fetcher, Response

try:  # gov.kz dates its releases in Astana time
    ASTANA: timezone | ZoneInfo = ZoneInfo("Asia/Almaty")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without tz data: today's offset
    ASTANA = timezone(timedelta(hours=5), "Asia/Almaty")


class GovkzArticle(SourceAdapter):
    """A gov.kz press release: give its page URL
    (https://www.gov.kz/memleket/entities/ENTITY/press/news/details/ID?lang=ru|kk|en;
    ID may be the article's slug, looked up as the portal's own clients do).
    The page itself is a JavaScript shell, so the text is read from the portal's JSON
    API on the same host, passing its bot challenge; `language` overrides the URL's."""

    kind = "govkz"
    page_keys = True  # the item's title, text and date: monitor.sources.pagekey.item_key

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
        _refuse_null(item, answer)
        lookup = "id"
        if address.is_slug:
            # Asked by slug on every check: one request, as by id, and a slug that no
            # longer lists anything is how a removal shows. The id found is recorded.
            lookup = "slug"
            item = _first_of_slug_list(item, answer.url)
            if isinstance(item, dict) and text_field(item) is None \
                    and item.get("id") is not None:  # a summary only: read the item itself
                lookup = "slug, then id"
                item, answer = self.api.get_json(
                    fetcher, address.item_url(str(item["id"])), origin=address.origin,
                    language=address.language, ca_bundle=spec.ca_bundle)
                _refuse_null(item, answer)
        if not isinstance(item, dict):
            raise FetchFailed("parse", f"{answer.url}: expected an article object")
        missing = [name for name, found in (("title", item.get("title")),
                                            ("body", text_field(item))) if not found]
        if missing:  # `{}`, or an error object: not an article that lost its text
            raise FetchFailed("parse", f"{answer.url}: the answer is not an article "
                                       f"(no {' and no '.join(missing)})")
        # The document is read from these fields alone: while they are the ones that gave
        # the current text, the item is unchanged without parsing its HTML body.
        # The date is keyed as read too: time-zone data that moves Astana's offset
        # changes the day of a release sent near midnight.
        field, created = text_field(item), item.get("created_date")
        key = item_key("govkz", field, item.get("title"), item.get(field or ""), created,
                       published_in_astana(created) if isinstance(created, str) else None)
        validators = Validators(page_key=key)
        if previous is not None and previous.knows(key):
            return NotModified(validators)
        projects = item.get("projects")
        evidence: dict[str, Any] = {"lookup": lookup, "api_url": answer.url,
                                    "challenge": self.api.passed_with(address.origin) or "none"}
        if item.get("id") is not None:
            evidence["item_id"] = str(item["id"])
        evidence["text_field"] = field
        if files := attached_files(item, address.origin):
            evidence["files"] = files
        return Capture(
            document=item_document(item),
            final_url=address.page_url(projects if isinstance(projects, str) else None),
            raw=answer.content,
            content_type=answer.content_type,
            validators=validators,
            redirects=answer.redirects,
            evidence=evidence,
        )


def _first_of_slug_list(data: Any, url: str) -> Any:
    """The article a slug lookup found: the list's first item. An empty list means no
    article has that slug (any more), which is "not found" like a 404."""
    if isinstance(data, dict) and isinstance(data.get("content"), list):
        data = data["content"]  # a paged wrapper, should the API answer one
    if not isinstance(data, list):
        raise FetchFailed("parse", f"{url}: expected a list of articles for a slug lookup")
    if not data:
        raise FetchFailed("not_found", f"{url} lists no article with that slug")
    return data[0]

# Where an item keeps its text: news in `body`, documents in `content` (both HTML).
TEXT_FIELDS = ("body", "content")


def text_field(item: dict[str, Any]) -> str | None:
    """The name of the field holding the item's text, or None when it has none."""
    return next((name for name in TEXT_FIELDS if isinstance(item.get(name), str)), None)


def attached_files(item: dict[str, Any], origin: str) -> list[str]:
    """The URLs of a document's files (`full_text[].document`, a path or a URL)."""
    entries = item.get("full_text")
    files: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        link = entry.get("document") if isinstance(entry, dict) else None
        if isinstance(link, dict):  # {"url": …} or {"path": …} where a client saw one
            link = link.get("url") or link.get("path")
        if isinstance(link, str) and link.strip():
            url = urljoin(origin + "/", link.strip())
            if urlsplit(url).scheme in ("http", "https") and url not in files:
                files.append(url)
    return files


def item_document(item: dict[str, Any]) -> Document:
    """An API item as a Document: title, created_date, the text's paragraphs."""
    title = item.get("title")
    field = text_field(item)
    body = item.get(field) if field else None
    created = item.get("created_date")
    return normalize_document(
        html.unescape(title) if isinstance(title, str) else None,
        published_in_astana(created) if isinstance(created, str) else None,
        body_paragraphs(body) if isinstance(body, str) else [],
    )


def published_in_astana(created: str) -> str | None:
    """The publication date people see: `created_date` (which comes with `+05:00`,
    `+00:00` or `Z`) as a date in Astana, so a release at 02:30 Astana time, sent as
    21:30Z the day before, is dated the day it was published. A time without an
    offset is taken as written."""
    try:
        moment = datetime.fromisoformat(created.strip())
    except ValueError:
        return normalize_date(created)
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(ASTANA).date().isoformat()


def _refuse_null(item: Any, answer: Response) -> None:
    """The API answers `null` or `{"data": null}` for an article it no longer has:
    `not_found`, confirmed as a 404 is."""
    if item is None or (isinstance(item, dict) and list(item) == ["data"]
                        and item["data"] is None):
        said = "null" if item is None else '{"data": null}'
        raise FetchFailed("not_found", f"{answer.url} answered {said} for the article",
                          status=answer.status, judged_by=API_NULL,
                          evidence={"final_url": answer.url, "status": answer.status,
                                    "answer": said})
