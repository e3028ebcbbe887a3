"""Headers on every answer of the web app. Page text and titles are hostile input:
escaping keeps them text, and this policy keeps anything that slips through from
running (no inline script, no script from elsewhere, nothing framing the app)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The app's own pages: scripts and styles only from /static, no inline code, forms only
# to the app, frames only from the app (the capture view), never framed by others.
APP_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; font-src 'self'; form-action 'self'; frame-src 'self'; "
              "frame-ancestors 'none'; base-uri 'none'")
# A captured page, as it was fetched: a sandbox with a unique origin, no script, nothing
# fetched from anywhere; only the app's own capture view may frame it.
CAPTURE_POLICY = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                  "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")

# A version's screenshot, a PNG: nothing in it may load, run or frame anything.
SCREENSHOT_POLICY = "default-src 'none'; sandbox; frame-ancestors 'self'; base-uri 'none'"

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


class SecurityHeaders:
    """Adds the policy unless a route set its own (the raw capture does)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in COMMON if h[0] not in names)
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", APP_POLICY.encode()))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
