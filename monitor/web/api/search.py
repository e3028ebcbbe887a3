"""/api/v1/search: full-text search over every stored version, through the search
module (monitor.search.query.search(engine, query, limit=, offset=, source=)). Until
that module is installed the route answers 503 with one line, never a traceback.

A hit is passed on as the module gives it (a dataclass, a mapping or a row), with
its moments as RFC 3339 text; the fields every hit has are named below. Passages are
page text: they are JSON strings here, never markup."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import import_module
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from monitor.web.api.common import NOT_FOUND, moment, problem, source_row
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("search")
MODULE = "monitor.search.query"
MAX_HITS = 100
UNAVAILABLE = "search index not available"
# Other names a hit may give its fields: the API answers with the names on the left.
_ALIASES = {"source": ("name", "stream_id"), "version": ("document_version", "number"),
            "passage": ("snippet", "excerpt", "text")}


class SearchHit(BaseModel):
    """One matching version; further fields of the search module are passed on."""

    model_config = ConfigDict(extra="allow")
    source: str | None = Field(None, description="The source's name.")
    version: int | None = Field(None, description="The version that matched.")
    title: str | None = None
    captured_at: str | None = None
    passage: str | None = Field(None, description="The matching passage (page text).")


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit]
    next: int | None = Field(description="Pass as `offset` for the next page; null at the end.")


def search_function() -> Callable[..., Any] | None:
    """The search module's `search`, or None while it is not installed."""
    try:
        module = import_module(MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and MODULE.startswith(exc.name):
            return None
        raise  # the module is there and something it needs is not: a real error
    found = getattr(module, "search", None)
    return found if callable(found) else None


def hit_data(hit: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(hit) and not isinstance(hit, type):
        data = dataclasses.asdict(hit)
    elif isinstance(hit, Mapping):
        data = dict(hit)
    elif hasattr(hit, "_asdict"):
        data = hit._asdict()
    elif hasattr(hit, "_mapping"):
        data = dict(hit._mapping)
    else:
        data = dict(vars(hit))
    data = {str(k): moment(v) if isinstance(v, datetime) else v for k, v in data.items()}
    for name, others in _ALIASES.items():
        if data.get(name) is None:
            data[name] = next((data[o] for o in others if data.get(o) is not None), None)
    return data


@routes.get("/search", summary="Full-text search over every stored version",
            response_model=SearchResults,
            responses={**NOT_FOUND, 503: problem(UNAVAILABLE)})
def search(request: Request, _: Viewer,
           q: Annotated[str, Query(min_length=1, max_length=500, description=(
               "Words or a phrase, in any language the documents are in."))],
           source: Annotated[str | None, Query(min_length=1, max_length=200, description=(
               "Only this source's versions."))] = None,
           limit: Annotated[int, Query(ge=1, le=MAX_HITS)] = 20,
           offset: Annotated[int, Query(ge=0, le=10_000)] = 0) -> SearchResults:
    run = search_function()
    if run is None:
        raise HTTPException(503, UNAVAILABLE)
    if source is not None:
        source = source_row(request, source).name
    found = run(web(request).engine, q, limit=limit + 1, offset=offset, source=source)
    hits = list(getattr(found, "hits", found))
    return SearchResults(query=q, items=[SearchHit(**hit_data(h)) for h in hits[:limit]],
                         next=offset + limit if len(hits) > limit else None)
