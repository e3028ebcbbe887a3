"""Normalization: turn extracted text into the canonical `Document`.

Only differences that no reader can see are removed here: Unicode composition,
zero-width characters, control characters and noncharacters, and how whitespace
is laid out. A page's markup loses its control and noncharacters before it is
parsed (`markup_bytes`): one of them made the main-text extraction find nothing. Quotes, dashes and
letters are kept as they are, because changing them is a real edit that the
diff classifies (as typography or a homoglyph fix) rather than hides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from monitor.document import Document

# What no reader sees and no stored text may hold, dropped from every text:
# - invisible characters: U+200B..U+200D zero-width space/non-joiner/joiner, U+2060
#   word joiner, U+FEFF byte-order mark, U+00AD soft hyphen;
# - C0 and C1 controls, DEL. Not the ones that are whitespace (tab, line feed, carriage
#   return, U+000B, U+000C, U+001C..U+001F, U+0085 NEL): those are folded like spaces;
# - surrogates (a page decoded with surrogateescape can hold them; UTF-8 cannot);
# - noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
# One \x01, \x08, \x1b or \ufffe in an article made trafilatura find no main content
# (its XML stage refuses them), and every later edit of the page went unrecorded.
# Past U+1FFFD the class matches every character; `_unseen` keeps all but the
# noncharacters (a range is one test a character; 32 listed code points are 32).
_INVISIBLE = "\u00ad\u200b-\u200d\u2060\ufeff"
_FORBIDDEN = ("\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
              "\U0001fffe-\U0010ffff")
_UNSEEN = re.compile(f"[{_INVISIBLE}{_FORBIDDEN}]")
_FORBIDDEN_CHAR = re.compile(f"[{_FORBIDDEN}]")
_CONTROL_SPACES = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"  # controls that are whitespace

# The same, in a page's UTF-8 bytes before the HTML parser reads them. Each byte below
# 0x80 is a character of its own in UTF-8, so one `bytes.translate` does the C0
# controls; each multi-byte kind is looked for only when its lead byte occurs at all
# (a one-byte `in` is a memchr: microseconds), by a pattern that opens with a literal,
# which the regex engine skips to. Measured on a page of 30,000 characters (Cyrillic,
# guillemets, no-break spaces): 74 us, where parsing it takes 386 us.
_BYTE_SPACES = bytes.maketrans(_CONTROL_SPACES[:-1].encode(), b" " * 6)
_BYTE_DROPS = bytes([*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F])
_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F
_BMP_NONCHARACTER_BYTES = re.compile(rb"\xef(?:\xb7[\x90-\xaf]|\xbf[\xbe\xbf])")
_PLANE_END_BYTES = re.compile(rb"\xbf[\xbe\xbf]")  # how U+nFFFE and U+nFFFF end
_ASTRAL_NONCHARACTER_BYTES = re.compile(rb"[\xf0-\xf4][\x8f\x9f\xaf\xbf]\xbf[\xbe\xbf]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# A numeric character reference: libxml2 turns &#1; into \x01 just as it reads a raw one.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")

# A tag with thousands of attributes: libxml2 checks each new attribute against all
# the earlier ones of its tag, so parsing k of them costs k squared (20,000 took 3.8 s,
# 200,000 never ended). No page needs more than a few dozen: past _MAX_ATTRIBUTES the
# tag keeps its name and loses its attributes, which are never text, so the page's
# text is still read and its edits recorded (refusing the page would hide them).
# A tag that long is ≥ 2 bytes an attribute. Every tag is found (quotes honoured,
# one C pass: 0.8 ms on a 400 KB page) and the page is rebuilt only when one is
# that long: on the 990 pages of the corpus, nearly all of which hold a long inline
# script, a cheaper test (a long run without `<` or `>`, or an angle bracket in a
# value) was true on most pages and then cost more than this.
_MAX_ATTRIBUTES = 1000
_LONG_TAG = 2 * _MAX_ATTRIBUTES
_TAG = re.compile(rb"<[A-Za-z](?>[^\"'<>]++|\"[^\"]*+\"|'[^']*+')*+")
_TAG_NAME = re.compile(rb"<[^\s/>\"'=]*")
_QUOTED = re.compile(rb"\"[^\"]*\"|'[^']*'|\s*=\s*")

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
    """One paragraph or field: NFC, no invisible, control or noncharacters, single
    spaces (every whitespace character, line breaks included, is one space)."""
    # Every character _UNSEEN drops is unprintable, as is whitespace other than the
    # space: most paragraphs are printable, and one C pass says so. str.split()
    # splits on exactly the characters `\s` matches in a str pattern (str.isspace),
    # so the join is re.sub(r"\s+", " ", s).strip() at a third of the cost; ASCII
    # text is NFC already.
    if not s.isprintable():
        s = _UNSEEN.sub(_unseen, s)
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())


def _unseen(found: re.Match[str]) -> str:
    c = found[0]
    return c if c > "\U0001fffd" and ord(c) & 0xFFFE != 0xFFFE else ""


def markup_bytes(page: str) -> bytes:
    """A decoded page as UTF-8 for the HTML parser, without the characters that no
    text may hold (see _UNSEEN; the whitespace controls become spaces), whether
    raw or written as numeric character references. Invisible characters are left
    to normalize_text. A carriage return is left as it is: the parser reads it as
    the line break it is, and normalize_text folds it like every line break."""
    try:
        data = page.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: the rare page decoded with surrogateescape
        data = _SURROGATES.sub("", page).encode("utf-8")
    data = data.translate(_BYTE_SPACES, _BYTE_DROPS)
    if b"\xc2" in data and _C1_BYTES.search(data):
        data = _C1_BYTES.sub(lambda c1: b" " if c1[0] == b"\xc2\x85" else b"", data)
    if b"\xef" in data and _BMP_NONCHARACTER_BYTES.search(data):
        data = _BMP_NONCHARACTER_BYTES.sub(b"", data)
    if any(lead in data for lead in (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")) and (
            _PLANE_END_BYTES.search(data)):
        data = _ASTRAL_NONCHARACTER_BYTES.sub(b"", data)
    if _CHAR_REF.search(data):
        data = _CHAR_REF.sub(_char_ref, data)
    # Rebuilt only when a tag is that long; a call per tag to give each back as it is
    # cost more than finding them (real pages nearly all have a long inline script,
    # which made a cheaper test on the longest run between brackets always true).
    if max(map(len, _TAG.findall(data)), default=0) >= _LONG_TAG:
        data = _TAG.sub(_bounded_tag, data)
    return data


def _bounded_tag(found: re.Match[bytes]) -> bytes:
    """A tag as it is, or only its name when it holds more than _MAX_ATTRIBUTES."""
    tag = found[0]
    if len(tag) < _LONG_TAG or len(_QUOTED.sub(b"=", tag).split()) <= _MAX_ATTRIBUTES:
        return tag
    name = _TAG_NAME.match(tag)
    return name[0] if name else b"<span"


def _char_ref(found: re.Match[bytes]) -> bytes:
    """A character reference, or what stands for it when it names one to drop. Left
    to the parser: references to 0x80..0x9F, which it reads as windows-1252 (&#128;
    is a euro sign), as browsers do; and to 0, a surrogate or past the last code
    point, which it reads as U+FFFD."""
    code = int(found[1], 16) if found[1] else int(found[2])
    if 0x80 <= code <= 0x9F or code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return found[0]
    char = chr(code)
    if char in _CONTROL_SPACES:
        return b" "
    forbidden = _FORBIDDEN_CHAR.fullmatch(char)
    return b"" if forbidden is not None and not _unseen(forbidden) else found[0]


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
