"""Normalization: turn extracted text into the canonical `Document`.

Only differences that no reader can see are removed here: Unicode composition,
zero-width characters, and how whitespace is laid out. Quotes, dashes and
letters are kept as they are, because changing them is a real edit that the
diff classifies (as typography or a homoglyph fix) rather than hides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from monitor.document import Document

# U+200B..U+200D zero-width space/non-joiner/joiner, U+2060 word joiner,
# U+FEFF byte-order mark, U+00AD soft hyphen: invisible, so never content.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")

# ASCII digits only: int() would also read other scripts' digits, not superscripts.
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
_DOTTED_DATE = re.compile(r"(?<![0-9.])([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})(?![0-9.])")
_CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?")
_DATE_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")

# Month words by the prefix their every form (nominative, genitive, locative,
# abbreviation) shares. Russian and English need three letters; Kazakh month
# names are matched by their whole stem, to which case endings are appended.
_MONTH_PREFIXES: tuple[tuple[str, int], ...] = (
    ("янв", 1), ("фев", 2), ("мар", 3), ("апр", 4), ("май", 5), ("мая", 5),
    ("июн", 6), ("июл", 7), ("авг", 8), ("сен", 9), ("окт", 10), ("ноя", 11),
    ("дек", 12),
    ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("may", 5), ("jun", 6),
    ("jul", 7), ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
    ("қаңтар", 1), ("ақпан", 2), ("наурыз", 3), ("сәуір", 4), ("мамыр", 5),
    ("маусым", 6), ("шілде", 7), ("тамыз", 8), ("қыркүйек", 9), ("қазан", 10),
    ("қараша", 11), ("желтоқсан", 12),
)

_CHROME_MARK = "| gov.kz"
_TITLE_FIELD = "title:"
_DATE_FIELD = "date:"


def normalize_text(s: str) -> str:
    """One paragraph or field: NFC, no invisible characters, single spaces."""
    # str.split() splits on exactly the characters `\s` matches in a str pattern
    # (str.isspace), so this is re.sub(r"\s+", " ", s).strip() at a third of the cost;
    # ASCII text has no invisible characters and is NFC already.
    if not s.isascii():
        s = unicodedata.normalize("NFC", _INVISIBLE.sub("", s))
    return " ".join(s.split())


def split_paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs are separated by one or more blank (or whitespace-only) lines."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if normalize_text(line):
            current.append(line)
        elif current:
            paragraphs.append(normalize_text(" ".join(current)))
            current = []
    if current:
        paragraphs.append(normalize_text(" ".join(current)))
    return tuple(p for p in paragraphs if p)


def normalize_date(value: str | None) -> str | None:
    """A publication date as YYYY-MM-DD, or None when it cannot be read.

    A datetime gives the date as written in its own time zone: the page's local
    date is what its readers saw, so no conversion to UTC is made.
    """
    if value is None:
        return None
    text = normalize_text(value).casefold()
    iso = _ISO_DATE.match(text)
    if iso:
        return _valid(int(iso[1]), int(iso[2]), int(iso[3]))
    dotted = _DOTTED_DATE.search(text)
    if dotted:
        return _valid(int(dotted[3]), int(dotted[2]), int(dotted[1]))
    return _date_in_words(text)


def _date_in_words(text: str) -> str | None:
    """'14 июля 2026 11:58', '11 желтоқсан 2025', 'December 11, 2025', …"""
    tokens = _DATE_TOKEN.findall(_CLOCK.sub(" ", text))
    numbers = [t for t in tokens if t.isascii() and t.isdigit()]
    months = [m for m in map(_month, tokens) if m is not None]
    years = [int(n) for n in numbers if len(n) == 4]
    days = [int(n) for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1 or len(numbers) != 2 or len(set(months)) != 1:
        return None
    return _valid(years[0], months[0], days[0])


def _month(word: str) -> int | None:
    for prefix, month in _MONTH_PREFIXES:
        if word.startswith(prefix):
            return month
    return None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def normalize_document(
    title: str | None, published: str | None, paragraphs: Iterable[str]
) -> Document:
    """Build a canonical `Document` from extracted fields (None = unknown)."""
    clean_title = normalize_text(title) if title is not None else ""
    body = tuple(part for p in paragraphs for part in split_paragraphs(p))
    return Document(title=clean_title or None, published=normalize_date(published), paragraphs=body)


def normalize(doc: Document) -> Document:
    """Re-normalize a document; normalizing a normalized document changes nothing."""
    return normalize_document(doc.title, doc.published, doc.paragraphs)


def parse_capture(text: str) -> Document:
    """Read a plain-text capture (the baseline files, or a canonical text).

    Leading header lines are consumed: `title: …`, `date: …`, and a line of
    page chrome such as ' date 2025-12-11 Images | gov.kz', which carries the
    publication date. Everything after them is body.
    """
    lines = text.splitlines()
    title: str | None = None
    published: str | None = None
    while lines:
        line = normalize_text(lines[0])
        if line.startswith(_TITLE_FIELD):
            title = line[len(_TITLE_FIELD):]
        elif line.startswith(_DATE_FIELD):
            published = line[len(_DATE_FIELD):]
        elif _CHROME_MARK in line:
            published = _date_in_chrome(line)
        else:
            break
        lines.pop(0)
    return normalize_document(title, published, ["\n".join(lines)])


def _date_in_chrome(line: str) -> str | None:
    match = _ISO_DATE.search(line) or _DOTTED_DATE.search(line)
    return normalize_date(match[0]) if match else None
