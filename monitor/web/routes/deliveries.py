"""Deliveries: every alert sent or waiting, dead letters (failed for good) first, and
a retry button that puts a dead one back to pending, as `monitor alerts retry` does
(monitor.alerts.outbox.requeue); the dispatcher sends it on its next round."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from monitor.alerts.outbox import counts, delivery, listing, requeue
from monitor.alerts.schema import STATES
from monitor.web.auth import Editor, Viewer
from monitor.web.context import web
from monitor.web.flash import flash, take_flash
from monitor.web.labels import named
from monitor.web.templating import gettext, render

SHOWN = 200  # deliveries on one page
MAX_ID = 2**63 - 1  # the largest id either database holds


def routes(app: FastAPI) -> None:
    @app.get("/deliveries", name="deliveries", include_in_schema=False)
    async def deliveries_page(request: Request, user: Viewer,
                              state: str = Query("", max_length=16),
                              channel: str = Query("", max_length=200)) -> Response:
        if state and state not in STATES:
            raise HTTPException(422, gettext("%(key)s: %(value)s is not one of %(allowed)s",
                                             key="state", value=repr(state),
                                             allowed=", ".join(STATES)))
        engine = web(request).engine
        rows = listing(engine, (state,) if state else (), channel or None, SHOWN,
                       dead_first=True)
        return render(request, "deliveries.html", deliveries=rows, counts=counts(engine),
                      states=STATES, state=state, channel=channel, shown=SHOWN,
                      message=take_flash(request))

    @app.post("/deliveries/{delivery_id}/retry", name="retry_delivery", include_in_schema=False)
    async def retry_delivery(request: Request, user: Editor,
                             delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        store = web(request).store
        found = delivery(store.engine, delivery_id)
        if found is None:
            raise HTTPException(404, gettext("There is no delivery %(id)d.", id=delivery_id))
        if requeue(store.engine, [delivery_id], store.clock()):
            flash(request, gettext("Delivery %(id)d is back to pending; the dispatcher sends "
                                   "it on its next round.", id=delivery_id))
        else:
            flash(request, gettext("Delivery %(id)d is %(state)s, not dead: only dead "
                                   "letters are retried.", id=delivery_id,
                          state=named(found.state, "delivery")),
                  error=True)
        return RedirectResponse(app.url_path_for("deliveries"), 303)
