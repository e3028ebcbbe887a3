"""Page text made safe to show: no control characters, literal markdown,
links only to web pages. Page content is untrusted input."""

from __future__ import annotations

import re

from monitor.untrusted import printable  # the one rule for untrusted text

__all__ = ["escape_line_starts", "escape_markdown", "escape_markdown_inline", "link_url",
           "printable"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|&!{}])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)(\d+)([.)])|^(\s*)([-+=])", re.MULTILINE)
_LINKABLE = re.compile(r"^https?://[^\s<>\"'`\x00-\x1f\x7f]+$", re.IGNORECASE)


def link_url(url: str) -> str | None:
    """The URL if it is safe to make a link of (http or https, no spaces,
    quotes or angle brackets); None for anything else, e.g. `javascript:`."""
    return url if _LINKABLE.match(url) else None


def escape_markdown(text: str) -> str:
    """Page text made literal in markdown (backslash escapes, controls replaced)."""
    return escape_line_starts(escape_markdown_inline(printable(text)))


def escape_markdown_inline(text: str) -> str:
    """Backslash-escape the characters markdown gives a meaning inside a line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def escape_line_starts(text: str) -> str:
    """Keep '1. ', '- ', '+ ', '=' at a line start from turning into a list or heading."""
    def escape(m: re.Match[str]) -> str:
        if m.group(2) is not None:
            return f"{m.group(1)}{m.group(2)}\\{m.group(3)}"
        return f"{m.group(4)}\\{m.group(5)}"

    return _MARKDOWN_LINE_START.sub(escape, text)
