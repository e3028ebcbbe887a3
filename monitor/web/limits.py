"""How much a request may send. The app's largest form (a source's ignore list) and its
largest JSON body take a few kilobytes, but Starlette reads a body into memory before
any route can look at it, and a form of a thousand one-megabyte fields is read whole:
a visitor who never signed in could take the server's memory with a few requests. A
body over MAX_BODY gets 413, at once when its Content-Length says so, else as soon as
the bytes read pass it (a chunked body)."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1 << 20


class BodyTooLarge(HTTPException):
    """Raised while the body is read: the app's error pages answer it, as any refusal."""

    def __init__(self) -> None:
        super().__init__(413, f"the request's body is larger than {MAX_BODY // 1024} KiB")


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            refused = BodyTooLarge()
            await PlainTextResponse(refused.detail, 413, {"connection": "close"})(
                scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)
