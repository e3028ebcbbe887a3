"""`Server-Timing: app;dur=12.3` on every answer: the milliseconds the app took from
receiving the request to starting its answer (every page is rendered whole before
that), as browsers' developer tools and `curl -sI` show it. For operators watching a
slow page, and for the bench (bench/web_bench.py), which reports it beside the time
seen over the wire."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []),
                                      (b"server-timing", f"app;dur={took:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, timed)
