"""The web app's words in the language of the reader at hand.

Who reads is kept in a context variable: the route's auth dependency sets it for the
whole request (monitor.web.templating.speak_to), so a message built anywhere while
the request runs (a form's error, a flash message, a refusal) is in the reader's
language. Outside a request (the CLI calls the account functions too) it is English.
The catalogs are the `web` domain's (monitor/locale/*/LC_MESSAGES/web.po); `make
messages` extracts the msgids from every `gettext(...)`, `ngettext(...)` and `_(...)`
under monitor/web.
"""

from __future__ import annotations

import contextvars
from typing import Any

from monitor.i18n import DEFAULT_READER, Reader, translations

DOMAIN = "web"
_reader: contextvars.ContextVar[Reader] = contextvars.ContextVar("reader", default=DEFAULT_READER)


def current_reader() -> Reader:
    return _reader.get()


def speak(reader: Reader) -> contextvars.Token[Reader]:
    """From here on (in this context), words are for `reader`; the token undoes it."""
    return _reader.set(reader)


def stop(token: contextvars.Token[Reader]) -> None:
    _reader.reset(token)


def translated(message: str) -> str:
    """`message` in the reader's language, placeholders left in place."""
    return translations(_reader.get().language, DOMAIN).gettext(message)


def translated_plural(singular: str, plural: str, n: int) -> str:
    return translations(_reader.get().language, DOMAIN).ngettext(singular, plural, n)


def gettext(message: str, **values: Any) -> str:
    """`message` in the reader's language with `values` in its %(name)s places."""
    text = translated(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The form for `n` in the reader's language; `%(num)d` is `n`."""
    return translated_plural(singular, plural, n) % {"num": n, **values}
