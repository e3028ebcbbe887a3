"""What a fetched body is: its media type, whether it is text at all, and its text.

Pure functions, no I/O; `monitor.fetch` uses them to accept or refuse an answer and
`Response.text()` to decode it (declarations first, then detection).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# The declaration of a page's charset lives near its top; browsers scan 1 KB, we are
# more generous because CMS templates often put scripts before the <meta>.
PRESCAN_BYTES = 4096

# A charset that was *declared* but fails on a few stray bytes (a CMS cutting a
# multi-byte letter in half) is still the right charset: guessing another one would
# turn the whole page into mojibake and report a change that never happened.
TOLERATED_BAD_BYTES = 2  # plus one per TOLERATED_BAD_PER characters
TOLERATED_BAD_PER = 1000

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)


# Types that are never a text document, whatever the bytes look like.
BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/octet-stream",
                "application/pdf", "application/zip",
                # document files, and the labels servers give a file to download
                "application/x-pdf", "application/acrobat", "application/msword",
                "application/vnd.openxmlformats-officedocument.", "application/x-zip",
                "binary/octet-stream", "application/download", "application/x-download",
                "application/force-download")


class UndecodableText(ValueError):
    """No declared, detected or plausible charset decodes these bytes."""


def parse_content_type(value: str) -> tuple[str, str | None]:
    """'Text/HTML; charset="UTF-8"' -> ('text/html', 'utf-8')."""
    mime, *params = value.split(";")
    charset = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip(" \t\"'"):
            charset = val.strip(" \t\"'").lower()
    return mime.strip().lower(), charset


def mime_matches(mime: str, pattern: str) -> bool:
    """Does `mime` match an Accept-style pattern ("text/html", "text/*", "*/*")?"""
    pattern = pattern.lower()
    if pattern in ("*", "*/*"):
        return True
    return mime.startswith(pattern[:-1]) if pattern.endswith("/*") else mime == pattern


def is_binary_type(mime: str) -> bool:
    return mime.startswith(BINARY_TYPES)


def looks_binary(content: bytes, charset: str | None = None) -> bool:
    """NUL bytes near the start: no text document in an 8-bit or UTF-8 charset has them."""
    if b"\x00" not in content[:1024]:
        return False
    wide = (charset or bom_charset(content) or "").startswith(("utf-16", "utf-32"))
    return not wide


def bom_charset(content: bytes) -> str | None:
    """The charset named by a byte-order mark at the start of `content`, if any."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    return None


def declared_charset(content: bytes) -> str | None:
    """The charset a page declares in itself: <meta charset>, http-equiv, or <?xml encoding>."""
    head = content[:PRESCAN_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii").lower()
    # Found by an ASCII scan, so the bytes cannot really be UTF-16/32 (WHATWG rule).
    return "utf-8" if label.startswith(("utf-16", "utf-32")) else label


def decode(content: bytes, http_charset: str | None = None) -> str:
    """Decode a page: BOM, HTTP charset, in-page declaration, UTF-8, then detection.

    Each candidate must decode the bytes strictly. If none does, a declared charset
    that fails on only a few stray bytes is used with replacement characters; after
    that, charset-normalizer guesses. Raises UndecodableText when nothing fits.
    """
    if not content:
        return ""
    declared = [label for label in (http_charset, declared_charset(content)) if label]
    candidates = [bom_charset(content), *declared, "utf-8"]
    for label in dict.fromkeys(c for c in candidates if c):
        try:
            return content.decode(label)
        except (LookupError, UnicodeDecodeError):
            continue
    for label in dict.fromkeys(declared):
        try:
            text = content.decode(label, errors="replace")
        except LookupError:
            continue
        if text.count("\ufffd") <= TOLERATED_BAD_BYTES + len(text) // TOLERATED_BAD_PER:
            return text
    best = charset_normalizer.from_bytes(content).best()
    if best is None:
        tried = ", ".join(declared) or "no declared charset"
        raise UndecodableText(f"cannot decode the page as text ({tried}; detection failed)")
    return str(best)
