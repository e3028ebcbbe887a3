"""`GET /live`: the log's newest position as Server-Sent Events (monitor/web/live.py)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from monitor.web.auth import Viewer
from monitor.web.live import LogWatch


def routes(app: FastAPI) -> None:
    app.state.live = watch = LogWatch(app.state.web.store)

    @app.get("/live", name="live", include_in_schema=False)
    async def live(user: Viewer) -> StreamingResponse:
        return StreamingResponse(watch.events(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})
