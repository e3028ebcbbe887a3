"""What each kind of setting may be: one function per kind, used by `monitor add`, the
configuration and the catalog alike, so a value is refused when it is given, with the
same words wherever it is given, and never at every check.

`parse_*` return the value or raise ValueError; `*_problem` return why a value cannot
be used, or None. Callers add their own key name (`--interval`, `sources[2].interval`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from monitor.untrusted import one_line

# ASCII digits only: int() and float() take any script's digits (١٢), a duration does not.
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$", re.ASCII)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE | re.ASCII)
_SIZES = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, None: 1}
# Every duration is at most this long; an interval is at least MIN_INTERVAL. A check
# once a year is the longest that means anything, and 99999999999d overflowed the
# scheduler's datetime arithmetic (and PostgreSQL's integer column) on every start.
MAX_DURATION = 366 * 86400
MIN_INTERVAL = 1
NAME_MAX = 200
NAME_RULE = (f"a name starts with a letter or digit, then letters (any alphabet), digits, "
             f"'.', '_' or '-', at most {NAME_MAX} in all; no spaces, '/' or other signs")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Anything that looks like "user:password@" after a start, a space or a slash, and an
# optional scheme (with or without "//"): "@" also full-width (U+FF20) or as %40, since
# a message quoting a refused URL must never show a password, whatever else is wrong.
_USERINFO = re.compile(r"((?:^|[\s/])(?:[A-Za-z][A-Za-z0-9+.-]*:)?/*)[^\s/?#@\uff20]*"
                       r"(?:@|\uff20|%40)", re.IGNORECASE)


def parse_duration(value: Any) -> float:
    """'30s', '15m', '1h', '1d', '250ms' or a number of seconds, 0 to 366 days."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # a TOML integer past any float
            raise ValueError(f"{value!r} is too long (at most 366d)") from None
    else:
        match = _DURATION.match(str(value).lower())
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 15m, 1h, 1d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if math.isnan(seconds):
        raise ValueError(f"{value!r} is not a duration")
    if seconds < 0:
        raise ValueError(f"{value!r} is negative")
    if seconds > MAX_DURATION:
        raise ValueError(f"{value!r} is too long (at most 366d)")
    return seconds


def parse_interval(value: Any) -> int:
    """How often to check: a duration of 1s to 366d, in whole seconds."""
    seconds = parse_duration(value)
    if seconds < MIN_INTERVAL:
        raise ValueError(f"{value!r} is too short: an interval is at least 1s, at most 366d")
    return int(seconds)


MAX_CONFIRM = 86400.0


def parse_confirm(value: Any) -> float:
    """How long after a change to read the page again before it alerts (`confirm`):
    0 (off), or 1s to 1d."""
    seconds = parse_duration(value)
    if seconds != 0 and not 1 <= seconds <= MAX_CONFIRM:
        raise ValueError(f"{value!r}: a confirmation delay is 0 (off) or 1s to 1d")
    return seconds


def parse_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size (use e.g. 10MB, 512KB)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _SIZES[unit])


_ASCII_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # valid_name, for ASCII names
_SPACE = re.compile(r"\s")


def valid_name(name: str) -> bool:
    """Whether `name` can name a source or a channel (see NAME_RULE). Letters of any
    alphabet are welcome (приказ-минюст-318, қаулы-12); a name must be in NFC, so two
    names that look the same are the same string."""
    if isinstance(name, str) and name.isascii():  # the common case, without a lookup a char
        return 0 < len(name) <= NAME_MAX and _ASCII_NAME.fullmatch(name) is not None
    return (isinstance(name, str) and 0 < len(name) <= NAME_MAX
            and _name_start(name[0]) and all(name_char(ch) for ch in name)
            and unicodedata.is_normalized("NFC", name))


def name_char(ch: str) -> bool:
    """A character a name may hold: a letter or mark of any script, a decimal digit,
    '.', '_' or '-'."""
    return ch in "._-" or unicodedata.category(ch)[0] in "LM" or unicodedata.category(ch) == "Nd"


def _name_start(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"


def name_problem(name: Any) -> str | None:
    """Why `name` cannot name a source (None when it can)."""
    return None if valid_name(name) else f"{name!r}: {NAME_RULE}"


def env_name_problem(name: Any) -> str | None:
    """Why `name` cannot be the name of an environment variable (None when it can)."""
    if isinstance(name, str) and _ENV_NAME.match(name):
        return None
    return f"{name!r} is not an environment variable name (letters, digits and '_')"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be watched (None when it can): http(s), a host, no spaces, and
    no user name or password in it (the URL goes into the log, which keeps it forever)."""
    if not isinstance(url, str):
        return f"{url!r} is not a URL"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"{redacted(url)!r} is not a valid URL"
    if any(at in parts.netloc.lower() for at in ("@", "%40")):
        return (f"{redacted(url)!r}: a URL must not carry a user name or password "
                "(the log keeps every URL forever); put user:password in an environment "
                "variable named by auth_env in the source's [[sources]] table, or by "
                "`monitor add --auth-env VAR`")
    if _SPACE.search(url):  # \s is what str.isspace() calls a space
        return f"{redacted(url)!r} is not a URL (it contains spaces)"
    if _CONTROLS.search(url):  # RFC 3986: they are percent-encoded, never raw
        return f"{one_line(redacted(url))!r} is not a URL (it contains control characters)"
    if parts.scheme not in ("http", "https"):
        return f"{redacted(url)!r} is not an http(s) URL"
    if not host:
        return f"{redacted(url)!r} has no host"
    return None


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def redacted(url: str) -> str:
    """`url` with anything like a user name and password replaced by '…', for messages."""
    return _USERINFO.sub(r"\1…@", url)


def kind_url_problem(url: str, kind: str) -> str | None:
    """Why a source of `kind` cannot watch `url` (None when it can): the gov.kz kinds
    read only the URLs their adapter's parser knows, and it is asked, not copied."""
    from monitor.errors import FetchFailed
    from monitor.sources.govkz_urls import article_address, list_address

    parsers: dict[str, Callable[[str], object]] = {"govkz": article_address,
                                                   "govkz-list": list_address}
    parse = parsers.get(kind)
    if parse is None:
        return None
    try:
        parse(url)
    except FetchFailed as exc:
        return f"a {kind} source takes only these URLs: {exc}"
    return None


def auth_env_problem(variable: str, kind: str) -> str | None:
    """Why a source of `kind` cannot take its credentials from `variable` (None when
    it can): a variable's name, and a kind whose adapter sends them."""
    from monitor.sources import KINDS

    if problem := env_name_problem(variable):
        return problem
    if kind in KINDS and not KINDS[kind].takes_credentials:
        takers = ", ".join(k for k, cls in sorted(KINDS.items()) if cls.takes_credentials)
        return f"a {kind} source sends no credentials (only {takers} sources do)"
    return None


def mask_problems(selector: str | None, ignore: Any) -> list[tuple[str, str]]:
    """(key, problem) for each `selector` or `ignore` entry that cannot be used: the CSS
    is compiled and the regexes too, as a check would, so a bad one is refused when it is
    given rather than failing every check."""
    if not selector and not ignore:
        return []
    from monitor.sources import masking  # lxml and cssselect, needed only here

    found = []
    if selector and (problem := masking.selector_problem(selector)):
        found.append(("selector", problem))
    found += [("ignore", problem) for entry in ignore
              if (problem := masking.ignore_problem(entry))]
    return found


