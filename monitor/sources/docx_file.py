"""Adapter for a Word document (DOCX), read as text with python-docx.

python-docx opens the package (the zip, its parts, the core properties, the styles);
the body is walked here, because `Paragraph.text` reads only a paragraph's direct
runs and `Document.iter_inner_content` only the body's direct children: text inside
a tracked insertion, a content control (a form field, a table of contents) or a
hyperlink's nested runs would be dropped, and a decree's amendment is exactly where
tracked insertions are found.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lxml import etree

from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.blocks import claim_own_dictionary
from monitor.sources.files import FileKind, capture_file, document_of

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W, "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
# In document order: letters, and the marks that separate words. Deleted text is in
# w:delText (not read); a text box's copy for old readers (mc:Fallback) and text moved
# away (w:moveFrom) would be read twice.
_RUN_TEXT = etree.XPath(
    "(.//w:t | .//w:r/w:tab | .//w:br | .//w:cr | .//w:noBreakHyphen)"
    "[not(ancestor::mc:Fallback) and not(ancestor::w:moveFrom)]", namespaces=_NS)
_STYLE = etree.XPath("string(w:pPr/w:pStyle/@w:val)", namespaces=_NS)
_SEPARATORS = {f"{{{_W}}}tab": " ", f"{{{_W}}}br": "\n", f"{{{_W}}}cr": "\n",
               f"{{{_W}}}noBreakHyphen": "-"}
_HEADING_STYLES = ("title", "heading 1", "заголовок 1", "название", "тақырып")
_HEADING_WINDOW = 3  # the title is one of the first paragraphs
_CELL_SEPARATOR = " | "
# A DOCX is a zip: a few megabytes may unpack to gigabytes of XML. No real decree
# comes near this; a file that claims more is refused before anything is unpacked.
MAX_UNPACKED = 100 * 1024 * 1024


class DocxDocument(SourceAdapter):
    """A Word file, .docx (https://…/order.docx, picked from a URL ending .docx, or
    --kind docx). Its paragraphs and tables (a row per paragraph, cells separated by
    " | ") are read in document order, tracked insertions included; headers and
    footers are not read (page numbers live there). The title is the file's Title
    property, else its first Title or Heading 1 paragraph. The file is kept as
    evidence. An unchanged file (same bytes) is not parsed again; `ignore` takes
    `regex:` masks. Old binary .doc files are not read."""

    kind = "docx"
    page_keys = True

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        return capture_file(DOCX, spec, fetcher, previous)


def docx_document(content: bytes, url: str) -> Document:
    """A DOCX's canonical document. Raises FetchFailed (`parse`, `too_large`, `empty`)."""
    import docx

    _check_unpacked_size(content, url)
    claim_own_dictionary()  # python-docx parses with one parser for all threads
    try:
        word = docx.Document(io.BytesIO(content))
        styles = {style.style_id: (style.name or "").casefold() for style in word.styles}
        blocks = list(_blocks(word.element.body, styles))
        title = " ".join((word.core_properties.title or "").split()) or None
    except Exception as exc:
        # A broken package can fail anywhere in python-docx or lxml, with any
        # exception type; none of it may stop the check or reach the user raw.
        said = " ".join(str(exc).split())[:200]
        raise FetchFailed("parse", f"{url}: the DOCX cannot be read, it looks corrupt "
                          f"({type(exc).__name__}: {said})") from exc
    texts = [text for text, _ in blocks]
    if title is None:
        title = next((text for text, heading in blocks[:_HEADING_WINDOW] if heading), None)
    if texts and title is not None and " ".join(texts[0].split()) == title:
        texts = texts[1:]  # the heading is the title, not body
    return document_of(DOCX, url, title, texts)


def _check_unpacked_size(content: bytes, url: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FetchFailed("parse", f"{url}: the DOCX cannot be read, it is not a valid "
                          f"zip package ({exc})") from exc
    if unpacked > MAX_UNPACKED:
        raise FetchFailed("too_large", f"{url}: the DOCX unpacks to {unpacked // 2**20} MB, "
                          f"more than the {MAX_UNPACKED // 2**20} MB cap")


def _blocks(container: Any, styles: dict[str, str]) -> Iterator[tuple[str, bool]]:
    """(text, is a heading) of each non-empty paragraph and table row, in order."""
    for child in container.iterchildren():
        tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if tag == "p":
            text = _paragraph_text(child)
            if text.strip():
                yield text, styles.get(_STYLE(child), "").startswith(_HEADING_STYLES)
        elif tag == "tbl":
            yield from ((row, False) for row in _rows(child, styles))
        elif tag in ("sdt", "sdtContent", "customXml", "ins"):  # wrappers of blocks
            yield from _blocks(child, styles)


def _rows(table: Any, styles: dict[str, str]) -> Iterator[str]:
    for row in table.iterchildren(f"{{{_W}}}tr"):
        cells = [" ".join(text for text, _ in _blocks(cell, styles))
                 for cell in row.iterchildren(f"{{{_W}}}tc")]
        if any(c.strip() for c in cells):
            yield _CELL_SEPARATOR.join(cells)


def _paragraph_text(paragraph: Any) -> str:
    return "".join(_SEPARATORS.get(node.tag, node.text or "") for node in _RUN_TEXT(paragraph))


DOCX = FileKind(
    name="DOCX",
    media_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/zip", "application/x-zip-compressed"),
    magic=b"PK\x03\x04",
    libraries=("python-docx", "lxml"),
    extract=docx_document,
)
