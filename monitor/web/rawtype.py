"""How a version's raw bytes are served back: a Content-Type the browser cannot turn
into something else (no sniffing, a page is text/html or plain text, a file is a
download), and the charset the capture itself declares when it declares one.

Pure. The capture's media type is the one the server sent (VersionCaptured keeps it,
lowercased, without parameters); a baseline's bytes come without one and are
recognised by their first bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from monitor.content import bom_charset, declared_charset

HTML = ("text/html", "application/xhtml+xml")
PDF = ("application/pdf", "application/x-pdf", "application/acrobat")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILES = {PDF[0]: "pdf", DOCX: "docx", "application/msword": "doc"}
_LABEL = re.compile(r"^[a-z0-9._:-]{1,40}$")  # a header value can carry nothing else


@dataclass(frozen=True)
class ServedAs:
    media_type: str  # the Content-Type header, charset included
    extension: str  # of the file name a download gets
    download: bool  # sent as an attachment, never shown in the page

    @property
    def shown(self) -> bool:
        return not self.download


def served_as(content_type: str, content: bytes) -> ServedAs:
    mime = (content_type or _recognised(content)).split(";")[0].strip().lower()
    mime = PDF[0] if mime in PDF else mime
    if mime in FILES:
        return ServedAs(mime, FILES[mime], True)
    if mime in HTML:
        return ServedAs(_with_charset("text/html", content), "html", False)
    if mime.startswith("text/") or mime.endswith(("json", "xml")) or mime == "":
        return ServedAs(_with_charset("text/plain", content), "txt", False)
    return ServedAs("application/octet-stream", "bin", True)


def _recognised(content: bytes) -> str:
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF-"):
        return PDF[0]
    if head.startswith(b"PK\x03\x04") and b"word/" in content[:65536]:
        return DOCX
    if b"\x00" in head:
        return "application/octet-stream"
    return "text/html" if head[:1] == b"<" else "text/plain"


def _with_charset(mime: str, content: bytes) -> str:
    charset = _charset(content)
    return f"{mime}; charset={charset}" if charset else mime


def _charset(content: bytes) -> str | None:
    """The charset the bytes declare (a byte-order mark, a <meta>), else utf-8 when they
    are valid UTF-8, else None (the browser's guess beats a wrong label)."""
    for named in (bom_charset(content), declared_charset(content)):
        if named and _LABEL.match(named):
            try:
                codecs.lookup(named)
            except LookupError:
                continue
            return "utf-8" if named == "utf-8-sig" else named  # the label as browsers know it
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"
