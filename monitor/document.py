"""The canonical document: what the monitor compares and hashes.

A document has fields in a fixed order — title, date, body paragraphs — and a
canonical text form that is stored (content-addressed) and parsed back:

    title: <title, empty when unknown>
    date: <YYYY-MM-DD, empty when unknown>
    <blank line>
    <paragraph>
    <blank line>
    <paragraph>

Fields are read by position, so a paragraph that happens to start with
"title:" can never be mistaken for the header. A field that a capture lacks is
*unknown* (None), which is not the same as removed: the diff treats
unknown -> known as filling in, not as a change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from monitor.errors import MonitorError

_TITLE = "title:"
_DATE = "date:"


@dataclass(frozen=True)
class Document:
    title: str | None
    published: str | None  # ISO date, YYYY-MM-DD
    paragraphs: tuple[str, ...]

    def canonical_text(self) -> str:
        header = f"{_TITLE} {self.title or ''}".rstrip() + "\n"
        header += f"{_DATE} {self.published or ''}".rstrip() + "\n"
        return header + "\n" + "".join(p + "\n\n" for p in self.paragraphs).rstrip("\n") + "\n"

    @property
    def content_hash(self) -> str:
        return content_hash(self.canonical_text())

    @classmethod
    def from_canonical(cls, text: str) -> Document:
        lines = text.split("\n", 3)
        if len(lines) < 3 or not lines[0].startswith(_TITLE) or not lines[1].startswith(_DATE):
            raise MonitorError("stored snapshot is not a canonical document")
        title = lines[0][len(_TITLE):].strip() or None
        published = lines[1][len(_DATE):].strip() or None
        body = lines[3].rstrip("\n") if len(lines) > 3 else ""
        paragraphs = tuple(p for p in body.split("\n\n") if p.strip())
        return cls(title=title, published=published, paragraphs=paragraphs)


def content_hash(canonical_text: str) -> str:
    """sha256 of the canonical text, hex: the identity of a version's content."""
    return hashlib.sha256(canonical_text.encode("utf-8")).hexdigest()
