"""Real PDF and DOCX files, made by the test suite: reportlab for PDF, python-docx for DOCX.

PDF text in Cyrillic and Kazakh needs a TrueType font with those letters: DejaVu Sans
from the system's fonts, else the copy matplotlib ships, else the tests that need it
are skipped with the reason.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest

FONT = "DejaVuSans"
_FONT_PLACES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/Library/Fonts/DejaVuSans.ttf")


@cache
def _font_file() -> str | None:
    for place in _FONT_PLACES:
        if Path(place).is_file():
            return place
    try:
        import matplotlib
    except ImportError:
        return None
    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return str(bundled) if bundled.is_file() else None


def cyrillic_font() -> str:
    """The name of a registered reportlab font that has Cyrillic and Kazakh letters."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = _font_file()
    if path is None:
        pytest.skip("no DejaVuSans.ttf (fonts-dejavu-core, or matplotlib) to write Cyrillic PDFs")
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, path))
    return FONT


def make_pdf(paragraphs: Sequence[str], *, title: str | None = None,
             heading: str | None = None, page_height: float = 842.0,
             footer: str = "Страница {page}", header: str | None = None,
             cover: str | None = None, justified: bool = True, space_after: float = 8,
             first_indent: float = 0, font_size: float = 11, leading: float = 14) -> bytes:
    """An A4-wide PDF: optional cover page, heading, paragraphs (by default justified,
    with space between them), a running `header` and a `footer` with the page number
    on each page."""
    from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    font = cyrillic_font()
    body = ParagraphStyle("body", fontName=font, fontSize=font_size, leading=leading,
                          spaceAfter=space_after, firstLineIndent=first_indent,
                          alignment=TA_JUSTIFY if justified else TA_LEFT)
    big = ParagraphStyle("heading", fontName=font, fontSize=16, leading=20, spaceAfter=12)
    story = []
    if cover is not None:
        story += [Paragraph(cover, big), PageBreak()]
    if heading is not None:
        story.append(Paragraph(heading, big))
    story += [Paragraph(text, body) for text in paragraphs]

    def furniture(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.setFont(font, 9)
        canvas.drawCentredString(doc.pagesize[0] / 2, 30, footer.format(page=doc.page))
        if header is not None:
            canvas.drawString(72, doc.pagesize[1] - 40, header)

    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=(595.0, page_height), title=title or "",
                                 invariant=True)
    document.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return out.getvalue()


def varied_clauses(count: int, seed: int) -> list[str]:
    """`count` numbered clauses of one to six sentences, of words of a decree."""
    import random

    words = ("приказ юстиции Республики Казахстан утвердить правила государственной "
             "регистрации нормативных правовых актов департаменту обеспечить размещение "
             "интернет-ресурсе финансирование 1 250 000 тенге бюджета контроль исполнением "
             "возлагается вице-министра вводится действие истечении десяти календарных "
             "дней опубликования").split()
    rng = random.Random(seed)
    clauses = []
    for n in range(1, count + 1):
        sentences = [" ".join(rng.sample(words, rng.randint(6, 18))).capitalize() + "."
                     for _ in range(rng.randint(1, 6))]
        clauses.append(f"{n}. " + " ".join(sentences))
    return clauses


def make_scanned_pdf() -> bytes:
    """A PDF of one page holding only a picture of a page: no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    picture = Image.new("L", (400, 560), 255)
    draw = ImageDraw.Draw(picture)
    for row in range(40, 520, 24):  # dark bars where a scanner would see lines of print
        draw.rectangle((40, row, 360, row + 10), fill=30)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(595, 842), invariant=True)
    canvas.drawImage(ImageReader(picture), 50, 100, width=495, height=690)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def make_docx(paragraphs: Sequence[str], *, title: str | None = None,
              heading: str | None = None, table: Sequence[Sequence[str]] = ()) -> bytes:
    """A DOCX: optional Title property, a Heading 1, the paragraphs, then a table."""
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    if heading is not None:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
