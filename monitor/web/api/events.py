"""/api/v1/events: the log itself, the source of truth, paged by global position in
the shape `monitor events --json` prints (monitor.event_data). Positions only grow
and a reader never passes a gap a slower writer fills later (see the PostgreSQL lock
in monitor/store/database.py), so following `next` reads every event exactly once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, Field

from monitor.event_data import event_data
from monitor.web.api.common import MAX_POSITION, Limit
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("events")


class Event(BaseModel):
    """One event of the log. `data` holds what was recorded (page text: untrusted)."""

    position: int = Field(description="Global position in the log: only grows.")
    event_id: str
    stream_id: str = Field(description="The stream: a source's name, or the monitor's own.")
    version: int = Field(description="1, 2, 3… within the stream.")
    type: str = Field(description="SourceRegistered, VersionCaptured, ChangeDetected, …")
    schema_version: int
    recorded_at: str
    data: dict[str, Any]
    hash: str = Field(description="sha256 chaining this event to the stream's previous one.")


class EventPage(BaseModel):
    items: list[Event]
    next: int | None = Field(description="Pass as `after` for the next page; null when this "
                                         "page reached the end of the log.")


@routes.get("/events", summary="The event log, paged by position", response_model=EventPage)
def list_events(request: Request, _: Viewer,
                after: Annotated[int, Query(ge=0, le=MAX_POSITION, description=(
                    "Only events after this log position (0: from the start)."))] = 0,
                limit: Limit = 100) -> EventPage:
    found = web(request).store.read_all(after, limit=limit + 1)
    page = found[:limit]
    return EventPage(items=[Event(**event_data(e)) for e in page],
                     next=page[-1].position if len(found) > limit else None)
