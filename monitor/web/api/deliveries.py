"""/api/v1/deliveries: the alert outbox, one row per alert per channel, newest first.
Only what the outbox keeps about a delivery is shown; a channel's settings (addresses,
passwords, webhook secrets) are never read here, and the errors kept were scrubbed of
them when recorded (monitor.alerts.dispatcher)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, Field

from monitor.alerts.outbox import listing
from monitor.web.api.common import MAX_POSITION, Limit, moment
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("deliveries")

DeliveryState = Literal["pending", "sending", "retrying", "delivered", "dead", "confirming",
                        "dropped", "held", "digested"]


class Delivery(BaseModel):
    id: int
    alert_id: str = Field(description="What the receiver sees (webhook-id, Message-ID).")
    state: str
    channel: str
    kind: str = Field(description="changed, reverted, published, removed, failing or digest.")
    source: str
    summary: str
    event_id: str
    event_position: int
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    created_at: str | None
    delivered_at: str | None


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next: int | None = Field(description="Pass as `cursor` for the next (older) page; null "
                                         "at the end.")


def delivery_model(row: Any) -> Delivery:
    return Delivery(
        id=row.id, alert_id=row.alert_id, state=row.state, channel=row.channel,
        kind=row.kind, source=row.stream_id, summary=row.summary, event_id=row.event_id,
        event_position=row.event_position, attempts=row.attempts,
        next_attempt_at=moment(row.next_attempt_at), last_error=row.last_error,
        created_at=moment(row.created_at), delivered_at=moment(row.delivered_at))


@routes.get("/deliveries", summary="Alert deliveries, newest first",
            response_model=DeliveryPage)
def list_deliveries(request: Request, _: Viewer,
                    state: Annotated[list[DeliveryState] | None, Query(description=(
                        "Only these states (repeat for several)."))] = None,
                    channel: Annotated[str | None, Query(max_length=200)] = None,
                    cursor: Annotated[int | None, Query(ge=1, le=MAX_POSITION, description=(
                        "`next` of the previous page."))] = None,
                    limit: Limit = 100) -> DeliveryPage:
    rows = listing(web(request).engine, state or (), channel, limit + 1, before=cursor)
    page = rows[:limit]
    return DeliveryPage(items=[delivery_model(r) for r in page],
                        next=page[-1].id if len(rows) > limit else None)
