"""/api/v1/changes: recorded changes (edits, publications, removals), oldest first, in
the one change schema (monitor/schemas/change.schema.json) that webhooks and report
JSON carry: each item is made by monitor.changes.data.change_data from the change read
by monitor.changes.load, as the alerts and the report read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy import select

from monitor.changes.data import change_data
from monitor.changes.load import load_changes
from monitor.errors import UsageError
from monitor.report.filters import SIGNIFICANCE_LEVELS, parse_since, parse_until
from monitor.store.schema import changes
from monitor.web.api.common import MAX_POSITION, NOT_FOUND, source_row
from monitor.web.api.openapi import schema_ref
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("changes")

Changes = Annotated[list[dict[str, Any]], WithJsonSchema(
    {"type": "array", "items": schema_ref()})]
Since = Annotated[str | None, Query(max_length=64, description=(
    "Only changes detected since: 30m, 12h, 7d, 2w back, or an ISO date/time (UTC unless "
    "it has an offset)."))]
Until = Annotated[str | None, Query(max_length=64, description=(
    "Only changes detected before this ISO date/time (a bare date includes that day)."))]
Significance = Annotated[Literal["low", "medium", "high"] | None, Query(
    description="Only changes at least this significant.")]
Cursor = Annotated[int, Query(ge=0, le=MAX_POSITION, description=(
    "`next` of the previous page: changes after this log position."))]
# A change carries up to 100 hunks of up to 20,000 characters: pages stay smaller.
Limit = Annotated[int, Query(ge=1, le=200, description="At most this many changes.")]


class ChangePage(BaseModel):
    items: Changes
    next: int | None = Field(description="Pass as `cursor` for the next page; null at the end.")


def _window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        return (parse_since(since, now) if since else None,
                parse_until(until) if until else None)
    except UsageError as exc:  # its message names the option as the CLI spells it
        raise HTTPException(422, str(exc).removeprefix("--")) from None


def _page(request: Request, stream_id: str | None, since: str | None, until: str | None,
          min_significance: str | None, cursor: int, limit: int) -> ChangePage:
    start, end = _window(since, until)
    query = (select(changes).where(changes.c.event_position > cursor)
             .order_by(changes.c.event_position).limit(limit + 1))
    if stream_id is not None:
        query = query.where(changes.c.stream_id == stream_id)
    if start is not None:
        query = query.where(changes.c.detected_at >= start)
    if end is not None:
        query = query.where(changes.c.detected_at < end)
    if min_significance is not None:
        wanted = SIGNIFICANCE_LEVELS[SIGNIFICANCE_LEVELS.index(min_significance):]
        query = query.where(changes.c.significance.in_(wanted))
    context = web(request)
    with context.engine.connect() as conn:
        rows = list(conn.execute(query))
        records = load_changes(conn, rows[:limit])
    return ChangePage(items=[change_data(r, context.public_url) for r in records],
                      next=records[-1].event_position if len(rows) > limit else None)


@routes.get("/changes", summary="Recorded changes of every source, oldest first",
            response_model=ChangePage, responses=NOT_FOUND)
def list_changes(request: Request, _: Viewer, since: Since = None, until: Until = None,
                 source: Annotated[str | None, Query(min_length=1, max_length=200, description=(
                     "Only this source's changes."))] = None,
                 min_significance: Significance = None, cursor: Cursor = 0,
                 limit: Limit = 100) -> ChangePage:
    stream_id = source_row(request, source).stream_id if source is not None else None
    return _page(request, stream_id, since, until, min_significance, cursor, limit)


@routes.get("/sources/{name}/changes", summary="Recorded changes of one source, oldest first",
            response_model=ChangePage, responses=NOT_FOUND)
def list_source_changes(request: Request, _: Viewer, name: str, since: Since = None,
                        until: Until = None, min_significance: Significance = None,
                        cursor: Cursor = 0, limit: Limit = 100) -> ChangePage:
    stream_id = source_row(request, name).stream_id
    return _page(request, stream_id, since, until, min_significance, cursor, limit)
