"""Adapter for a PDF document (a decree, an order, a report), read as text.

The text layer is read with pdfminer.six rather than pypdf. Both read Cyrillic and
Kazakh letters correctly from a reportlab-made decree, but pypdf gives the lines in
content-stream order with no positions (the footer drawn first came out first, and
every line break looked alike), while pdfminer's layout analysis gives each line
with its box and coordinates: the vertical gaps that separate paragraphs, the edges
that show indents, and where page numbers and running heads sit. Re-flowing lines
into paragraphs across page breaks (monitor.sources.pdflayout) needs exactly that.
pdfminer is slower, measured on a dense test page (2,600 letters, justified): 170 ms
against pypdf's 26 ms. It is paid only when a file's bytes change (see files.py).
"""

from __future__ import annotations

import io
import logging
from statistics import median
from typing import TYPE_CHECKING, Any

from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.files import FileKind, capture_file, document_of
from monitor.sources.pdflayout import Line, Page, heading, reflow

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

# Titles that PDF writers fill in from the file name, not from the document.
_WRITER_TITLES = ("microsoft word - ", "microsoft powerpoint - ", "untitled")
_FILE_SUFFIXES = (".doc", ".docx", ".pdf", ".rtf", ".odt", ".xls", ".xlsx")
# Justified lines stretch their spaces: at pdfminer's default (2 letter widths) a
# stretched line fell apart into word groups, each in a box of its own. At 3 and
# more the test decrees read whole; 6 still keeps apart columns a gutter of about
# 40 points divides (tables' cells closer than that read as one line, a row).
CHAR_MARGIN = 6.0
# Characters pdfminer writes for a glyph its font cannot map to Unicode.
_UNMAPPED = "(cid:"


class PdfDocument(SourceAdapter):
    """A PDF file (https://…/order.pdf, picked from a URL ending .pdf, or --kind pdf).
    Its text layer is read page by page and re-flowed into paragraphs: lines of a
    paragraph joined, words hyphenated at a line's end joined, page numbers and
    running heads dropped, so re-pagination is no change. The title is the PDF's
    Title, else the first heading. The file is kept as evidence. A scanned PDF with no
    text layer fails as `empty` (no OCR is done); an encrypted or corrupt one as
    `parse`. An unchanged file (same bytes) is not parsed again; `ignore` takes
    `regex:` masks."""

    kind = "pdf"
    page_keys = True

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        return capture_file(PDF, spec, fetcher, previous)


def pdf_document(content: bytes, url: str) -> Document:
    """A PDF's canonical document. Raises FetchFailed (`parse`, `empty`)."""
    title, pages = _read(content, url)
    paragraphs = reflow(pages)
    if not paragraphs:
        raise FetchFailed("empty", f"{url}: the PDF has no text layer (a scanned image?); "
                          "the monitor does not do OCR")
    texts = [p.text for p in paragraphs]
    unmapped = sum(t.count(_UNMAPPED) for t in texts) * len("(cid:00)")
    if unmapped * 2 > sum(map(len, texts)):  # most of the "text" is unmapped glyphs
        raise FetchFailed("parse", f"{url}: the PDF's fonts do not map their glyphs to "
                          "letters, so its text cannot be read")
    first = heading(paragraphs)
    if title is None and first is not None:
        title = first.text
    if texts and title is not None and texts[0] == title:
        texts = texts[1:]  # the heading is the title, not body
    return document_of(PDF, url, title, texts)


def _read(content: bytes, url: str) -> tuple[str | None, list[Page]]:
    """(metadata title, pages of lines). Any failure of the parser is `parse`."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns per odd glyph
    try:
        document = PDFDocument(PDFParser(io.BytesIO(content)))
        title = _metadata_title(document)
        resources = PDFResourceManager()
        device = PDFPageAggregator(resources, laparams=LAParams(char_margin=CHAR_MARGIN))
        interpreter = PDFPageInterpreter(resources, device)
        pages = []
        for page in PDFPage.create_pages(document):
            interpreter.process_page(page)
            pages.append(_page(device.get_result()))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise FetchFailed("parse", f"{url}: the PDF is encrypted and cannot be read "
                          f"({_reason(exc)})") from exc
    except Exception as exc:
        # A corrupt file can fail anywhere in a parser of a format this loose, with
        # any exception type; none of it may stop the check or reach the user raw.
        raise FetchFailed("parse", f"{url}: the PDF cannot be read, it looks corrupt "
                          f"({_reason(exc)})") from exc
    return title, pages


def _page(layout: Any) -> Page:
    from pdfminer.layout import LTChar, LTTextBox, LTTextLine

    lines: list[Line] = []
    for number, box in enumerate(b for b in layout if isinstance(b, LTTextBox)):
        for line in box:
            if not isinstance(line, LTTextLine):
                continue
            text = line.get_text().strip()
            sizes = [c.size for c in line if isinstance(c, LTChar)]
            if text:
                lines.append(Line(text, line.x0, line.x1, line.y0, line.y1,
                                  round(median(sizes), 1) if sizes else 0.0, number))
    return Page(tuple(lines))


def _metadata_title(document: Any) -> str | None:
    """The Info dictionary's Title, unless a writer made it up from a file name."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    for info in document.info:
        value = resolve1(info.get("Title"))
        if isinstance(value, bytes):
            title = " ".join(decode_text(value).replace("\x00", "").split())
            lowered = title.casefold()
            if title and not lowered.startswith(_WRITER_TITLES) and not lowered.endswith(
                _FILE_SUFFIXES
            ):
                return title
    return None


def _reason(exc: BaseException) -> str:
    said = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__


PDF = FileKind(
    name="PDF",
    media_types=("application/pdf", "application/x-pdf", "application/acrobat"),
    magic=b"%PDF-",
    libraries=("pdfminer.six",),
    extract=pdf_document,
)
