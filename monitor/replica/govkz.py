"""A local replica of gov.kz: article pages, the content-manager JSON API, the bot
challenge, block mode and noise — on a real HTTP server on 127.0.0.1.

    with GovkzReplica(challenge="v2") as site:
        url = site.add_article("mfa", 1001, lang="en", title="…", paragraphs=["…"],
                               created_date="2025-12-11T10:15:00.000+05:00")
        site.edit_article(1001, "en", paragraphs=["… 5 …"])
        site.expire_challenge()
        site.remove_article(1001)
"""

from __future__ import annotations

import re
from pathlib import Path

from monitor.replica import api, pages
from monitor.replica.articles import Article, ArticleStore, body_from_paragraphs
from monitor.replica.baseline import (
    CREATED_DATE,
    ENTITY,
    LANG,
    SLUG,
    TITLE,
    baseline_body,
    seed_paragraphs,
)
from monitor.replica.challenge import ChallengeGate
from monitor.replica.noise import Noise
from monitor.replica.reserialise import Reserialiser
from monitor.replica.server import ReplicaServer, Reply, Request

_PAGE = re.compile(
    r"^/memleket/entities/([^/]+)/(press/news|press/events|documents)/details/([^/]+)/?$"
)
_API_ITEM = re.compile(r"^/api/v1/public/content-manager/(news|events|documents)/([^/]+)/?$")
_API_LIST = re.compile(r"^/api/v1/public/content-manager/(news|events|documents)/?$")
_NOT_FOUND = {"error": "notFound"}
# How the portal refuses a client that has not passed the challenge: all are seen.
REFUSALS = ("error", "message", "text")


class GovkzReplica(ReplicaServer):
    """gov.kz on 127.0.0.1. Attributes may be changed while it runs:
    `block`, `block_status`, `prerendered`, `body_as_document`, `noise.enabled`,
    `challenge` ("v1" | "v2" | None), `challenge_broken`, `client_headers` (the v1
    POST must be JSON with an Origin, news GETs must carry a Referer), `refusal`
    (`{"error":"notAllowed"}`, `{"message":"notAllowed"}` or plain-text `notAllowed`)
    with `refusal_status` (400 or 403), `refuse_all` (even clients that passed are
    refused, as after a change of challenge the monitor does not know), and
    `broken_answer`: a JSON value (such as `{}` or `[]`) answered, with 200, to every
    article and list request past the challenge, as the API does when its back end
    fails. How a missing article answers: `missing_answer` "notFound" (404
    `{"error":"notFound"}`), "null" (200 `null`) or "data-null" (200
    `{"data": null}`), the answers public clients of the portal handle; and
    `soft_404_pages`: its page is the portal's not-found page with 200, as the
    single-page portal serves every address, instead of a 404. `reserialise`: every
    JSON answer of the API is written differently (key order, whitespace, escaping;
    monitor.replica.reserialise), as real APIs do."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        challenge: str | None = "v1",
        prerendered: bool = False,
        noise: bool = True,
        body_as_document: bool = False,
        block: bool = False,
        block_status: int = 200,
        seed: int | None = None,
        reserialise: bool = False,
    ) -> None:
        super().__init__(host=host, port=port)
        self.articles = ArticleStore()
        self.noise = Noise(enabled=noise, seed=seed)
        self.gate = ChallengeGate(challenge)
        self.prerendered = prerendered
        self.body_as_document = body_as_document
        self.block = block
        self.block_status = block_status
        self.broken_answer: object | None = None
        self.missing_answer = "notFound"
        self.soft_404_pages = False
        self.refusal = "error"
        self.refusal_status = 400
        self.refuse_all = False
        self.reserialise = reserialise
        self._writer = Reserialiser(seed)

    # -- settings ------------------------------------------------------------------

    @property
    def challenge(self) -> str | None:
        return self.gate.version

    @challenge.setter
    def challenge(self, version: str | None) -> None:
        self.gate = ChallengeGate(version, client_headers=self.gate.client_headers)

    @property
    def client_headers(self) -> bool:
        return self.gate.client_headers

    @client_headers.setter
    def client_headers(self, required: bool) -> None:
        self.gate.client_headers = required

    @property
    def challenge_broken(self) -> bool:
        return self.gate.broken

    @challenge_broken.setter
    def challenge_broken(self, broken: bool) -> None:
        self.gate.broken = broken

    def expire_challenge(self) -> None:
        """Tokens issued so far stop working: the next news request gets 400 notAllowed."""
        self.gate.expire()

    # -- URLs ----------------------------------------------------------------------

    def page_url(
        self, entity: str, article_id: int | str, lang: str = "en", section: str = "news"
    ) -> str:
        path = f"press/{section}" if section in ("news", "events") else section
        return f"{self.base_url}/memleket/entities/{entity}/{path}/details/{article_id}?lang={lang}"

    def list_page_url(self, entity: str, lang: str = "en") -> str:
        return f"{self.base_url}/memleket/entities/{entity}/press/news?lang={lang}"

    def api_list_url(self, entity: str, size: int = 20) -> str:
        return (
            f"{self.base_url}/api/v1/public/content-manager/news"
            f"?sort-by=created_date:DESC&projects=eq:{entity}&page=1&size={size}"
        )

    def api_item_url(self, article_id: int | str) -> str:
        return f"{self.base_url}/api/v1/public/content-manager/news/{article_id}"

    # -- content control -----------------------------------------------------------

    def add_article(
        self,
        entity: str,
        article_id: int | str,
        *,
        lang: str = "en",
        title: str,
        paragraphs: list[str] | None = None,
        body_html: str | None = None,
        created_date: str,
        section: str = "news",
        slug: str | None = None,
        files: tuple[str, ...] = (),
        directions: tuple[int, ...] = (7,),
    ) -> str:
        """Publish an article (paragraphs or ready body HTML); returns its page URL
        (by numeric id; `slug_url` gives the page URL by slug)."""
        body = body_html if body_html is not None else body_from_paragraphs(paragraphs or [])
        self.articles.put(
            Article(entity, str(article_id), lang, title, body, created_date, section,
                    slug or "", files, directions)
        )
        return self.page_url(entity, article_id, lang, section)

    def slug_url(self, entity: str, slug: str, lang: str = "en", section: str = "news") -> str:
        return self.page_url(entity, slug, lang, section)

    def edit_article(
        self,
        article_id: int | str,
        lang: str,
        *,
        title: str | None = None,
        paragraphs: list[str] | None = None,
        body_html: str | None = None,
        created_date: str | None = None,
    ) -> None:
        changes: dict[str, str] = {}
        if title is not None:
            changes["title"] = title
        if paragraphs is not None:
            changes["body_html"] = body_from_paragraphs(paragraphs)
        if body_html is not None:
            changes["body_html"] = body_html
        if created_date is not None:
            changes["created_date"] = created_date
        self.articles.edit(str(article_id), lang, **changes)

    def remove_article(self, article_id: int | str, lang: str | None = None) -> None:
        """Remove one language of an article, or all of them."""
        self.articles.remove(str(article_id), lang)

    def seed_baseline(self, article_id: int | str = 1119829, seed: Path | None = None) -> str:
        """Publish the shipped baseline article (from the seed capture), under the slug
        its shipped URL ends in; returns its URL by id."""
        return self.add_article(
            ENTITY,
            article_id,
            lang=LANG,
            title=TITLE,
            body_html=baseline_body(seed_paragraphs(seed)),
            created_date=CREATED_DATE,
            slug=SLUG,
        )

    # -- serving -------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/api/"):
            return self._handle_api(request)
        match = _PAGE.match(request.path)
        lang = request.query.get("lang", "ru")
        if match is None:
            return Reply.html(404, pages.not_found_page(lang, self.noise))
        if not self.prerendered:
            return Reply.html(200, pages.shell_page(lang, self.noise))
        entity, section, article_id = match.groups()
        article = self.articles.get(
            article_id, lang, section.removeprefix("press/")
        )
        if article is None or article.entity != entity:
            status = 200 if self.soft_404_pages else 404
            return Reply.html(status, pages.not_found_page(lang, self.noise))
        related = [t for t in self.articles.titles(lang) if t != article.title]
        return Reply.html(200, pages.article_page(article, self.noise, related))

    def _handle_api(self, request: Request) -> Reply:
        if self.block:
            return Reply.html(self.block_status, pages.block_page(self.noise))
        gate = self.gate
        challenge_reply = gate.answer(request, self.base_url)
        if challenge_reply is not None:
            return challenge_reply
        lang = api.request_language(request.header("accept-language"))
        item = _API_ITEM.match(request.path)
        matched = item or _API_LIST.match(request.path)
        if matched is None:
            return Reply.json(404, _NOT_FOUND)
        section = matched.group(1)
        if section == "news" and (self.refuse_all or not gate.admits(request, self.base_url)):
            return self._refuse()
        if self.broken_answer is not None:
            return Reply.json(200, self.broken_answer)
        if item is not None:
            article = self.articles.get(item.group(2), lang, section)
            if article is None:
                return self._missing()
            return self._json(self._item(article))
        entity = api.listing_entity(request.query)
        slug = api.slug_filter(request.query)
        if slug is not None:
            found = self.articles.by_slug(slug, entity, lang, section)
        else:
            direction = api.listing_direction(request.query)
            found = (self.articles.listing(entity, lang, section, direction)
                     if entity or direction is not None else [])
        return self._json([self._item(a) for a in api.listing_page(found, request.query)])

    def _json(self, data: object) -> Reply:
        if not self.reserialise:
            return Reply.json(200, data)
        return Reply(200, self._writer.dumps(data), "application/json; charset=utf-8")

    def _missing(self) -> Reply:
        if self.missing_answer == "null":
            return Reply.json(200, None)
        if self.missing_answer == "data-null":
            return Reply.json(200, {"data": None})
        return Reply.json(404, _NOT_FOUND)

    def _refuse(self) -> Reply:
        if self.refusal not in REFUSALS:
            raise ValueError(f"refusal must be one of {REFUSALS}, not {self.refusal!r}")
        if self.refusal == "text":
            return Reply(self.refusal_status, b"notAllowed", "text/plain; charset=utf-8")
        return Reply.json(self.refusal_status, {self.refusal: "notAllowed"})

    def _item(self, article: Article) -> dict[str, object]:
        views = self.noise.views(f"{article.article_id}/{article.lang}")
        return api.item_json(article, views, body_as_document=self.body_as_document)
