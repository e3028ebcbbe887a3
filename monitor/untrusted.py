"""Text that came from a page or a server, made safe to show and to store.

A server chooses its reason phrase, its header values, the URLs it redirects to and
what its TLS stack says; a page chooses its text. Any of them may hold ESC, which
starts a terminal control sequence: clear the screen (ESC[2J), recolour the rest of
the output, set the window title (OSC, ESC]0;…BEL). Each control character becomes
U+FFFD, which shows where it was without acting. Messages are cleaned when they are
built, before they are stored, and stored text again where it is printed, since
records older than this rule may hold it raw.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, the bidi overrides that
# make text display in an order other than the one stored, lone surrogates and
# the two non-characters XML forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff\ufffe\uffff]")
# What json.dumps(ensure_ascii=False) leaves raw that a terminal may still act on.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with control characters replaced by U+FFFD (tab and newline kept):
    safe on a terminal and in XML, which forbids most of them."""
    return _CONTROL.sub("\ufffd", text)


def one_line(text: str, limit: int | None = None) -> str:
    """`text` made printable and kept on one line (every run of whitespace, line
    breaks included, becomes one space), cut with an ellipsis past `limit`
    characters: for messages, subjects, titles and table cells."""
    line = " ".join(printable(text).split())
    if limit is not None and len(line) > limit:
        return line[:limit - 1].rstrip() + "…"
    return line


def json_text(dumped: str) -> str:
    """JSON written with ensure_ascii=False, with the characters it leaves raw that a
    terminal may act on (C1 controls, bidi overrides) written as \\u escapes: the
    same JSON value, safe to print."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
