"""The reader of a web page: their language (their setting, else the browser's
Accept-Language, else `[display] language`) and timezone (theirs, else `[display]`)."""

from __future__ import annotations

from fastapi import Request

from monitor.i18n import LANGUAGES, Reader
from monitor.web.context import web


def reader_of(request: Request) -> Reader:
    config = web(request).config
    user = getattr(request.state, "user", None)
    language = (user.language if user is not None and user.language in LANGUAGES else None) \
        or accepted_language(request.headers.get("accept-language", "")) \
        or config.display_language
    timezone = (user.timezone if user is not None and user.timezone else None) \
        or config.display_timezone
    return Reader(language, timezone)


def accepted_language(header: str) -> str | None:
    """The best of our languages in an Accept-Language header, or None."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, order, base))
    return min(ranked)[2] if ranked else None
