# ruff: noqa: RUF001  (Cyrillic in the parameter's description, written so on purpose)
"""/api/v1/search: full-text search over every stored version (monitor.search.query,
the same hits as the /search page and `monitor search`).

Passages are page text, given as segments (`{"text", "match"}`) to show with the
matches marked: JSON strings here, never markup; escape them wherever shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field

from monitor.moments import utc_iso
from monitor.search.parse import MAX_QUERY
from monitor.search.query import MAX_LIMIT, MAX_OFFSET, search
from monitor.web.api.common import NOT_FOUND, source_row
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("search")


class PassageSegment(BaseModel):
    text: str = Field(description="Page text, as it is (escape it where you show it).")
    match: bool = Field(description="Whether this is a match of the query.")


class SearchHit(BaseModel):
    source: str = Field(description="The source's name.")
    title: str | None = Field(description="The version's title, else the document's.")
    version: int = Field(description="The version that matched.")
    captured_at: str
    latest_version: int = Field(description="The document's newest stored version.")
    in_latest: bool = Field(description="Whether the matching version is the newest one: "
                                        "false when a later version no longer matches.")
    passage: list[PassageSegment] = Field(description="The text around the matches.")


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit]
    next: int | None = Field(description="Pass as `offset` for the next page; null at the end.")
    complete: bool = Field(description=(
        "False when a phrase made of words most versions hold was looked for in the "
        "newest of them only (PostgreSQL, after a second): older sources that say it may "
        "be missing. Add a word, or search within one source."))


@routes.get("/search", summary="Full-text search over every stored version",
            response_model=SearchResults, responses={**NOT_FOUND})
def search_versions(
    request: Request, _: Viewer,
    # Longer than a query may be (spaces are collapsed first): parse_query's one line
    # says what the limit is.
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY * 4, description=(
        "Words (all must appear), \"quoted phrases\" or «фразы» (together, in order), "
        "word* for any ending. Case, Ё/Е and accents do not matter. An empty or "
        "over-long query is a 400 with one line."))],
    source: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "Only this source: every version of it that matches. Without it, each source "
        "is one item, its newest version that matches."))] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchResults:
    if source is not None:
        source = source_row(request, source).name  # 404 for an unknown one
    found = search(web(request).engine, q, limit=limit, offset=offset, source=source)
    return SearchResults(
        query=found.query,
        items=[SearchHit(source=h.source, title=h.title, version=h.version,
                         captured_at=utc_iso(h.captured_at), latest_version=h.latest_version,
                         in_latest=h.in_latest,
                         passage=[PassageSegment(text=s.text, match=s.match)
                                  for s in h.passage]) for h in found.hits],
        next=offset + limit if found.more else None, complete=found.complete)
