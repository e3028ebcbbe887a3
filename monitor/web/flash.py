"""A one-line message carried in the session from an action to the page it
redirects to ("watching mfa-news", "delivery 12 is back to pending"), shown once."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

KEY = "flash"
MAX_CHARS = 500  # the session is a cookie: a message never makes it too large


@dataclass(frozen=True)
class Flash:
    text: str
    error: bool = False


def flash(request: Request, text: str, error: bool = False) -> None:
    request.session[KEY] = [text[:MAX_CHARS], error]


def take_flash(request: Request) -> Flash | None:
    """The message left for this page, removed from the session."""
    found = request.session.pop(KEY, None)
    if not isinstance(found, list) or len(found) != 2 or not isinstance(found[0], str):
        return None
    return Flash(found[0], bool(found[1]))
