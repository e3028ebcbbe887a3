# ruff: noqa: RUF002  (Cyrillic and Kazakh letters: what folding does to them)
"""What a word is to search, and the key it is indexed and looked up by.

Words are made and folded here, in Python, for both databases: the index gets the
keys already folded (FTS5 then only splits them at spaces, PostgreSQL gets a tsvector
built from them), and the query and the highlighted passage fold the same way. So
SQLite, PostgreSQL and the passage cannot disagree on what matches, whatever the
database's locale: PostgreSQL's `simple` config lowercases by the server's LC_CTYPE
and its parser splits "co-operation" three ways; FTS5's unicode61 keeps Ё and Е apart.

Folding: case (Unicode casefold: Қ→қ, Ә→ә, İ→i), Ё→Е, and accents off Latin letters
(é→e) and stress marks off Cyrillic ones (а́→а), but Й stays Й. Kazakh letters (ә ғ қ ң
ө ұ ү һ і) are letters of their own, not accented ones, and stay as they are. There
is no stemming: no Kazakh stemmer exists, and one rule for both languages keeps both
databases alike; a trailing * in a query matches any ending (суд* finds суда, судом).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from monitor.document import Document
from monitor.errors import MonitorError

# Letters and digits (not "_"), with the combining marks that may follow a letter
# (Latin and Cyrillic accents and stress marks, Cyrillic titlo): "за́мок" is one word.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
WORD = re.compile(f"[^\\W_](?:[^\\W_]|[{_MARKS}])*")
# A "word" longer than this (a hash, base64) is indexed by its first MAX_KEY characters.
MAX_KEY = 64
_BREVE = "\u0306"


@dataclass(frozen=True)
class Word:
    start: int  # where it is in the text (characters)
    end: int
    key: str  # what it is indexed and matched by


def words(text: str) -> Iterator[Word]:
    for found in WORD.finditer(text):
        yield Word(found.start(), found.end(), fold(found.group()))


def keys(text: str) -> list[str]:
    return [fold(found.group()) for found in WORD.finditer(text)]


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """The key of a word: see the module's docstring."""
    if word.isascii():
        return word.lower()[:MAX_KEY]
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", word.casefold()):
        if unicodedata.combining(char):
            if char == _BREVE and kept and kept[-1] == "и":
                kept[-1] = "й"  # Й is a letter of its own, not an accented И
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))[:MAX_KEY]


def searchable_text(canonical: str) -> str:
    """What of a stored version is searched and quoted: its title and paragraphs, not
    the `title:` and `date:` labels of the canonical form (every version has them)."""
    try:
        document = Document.from_canonical(canonical)
    except MonitorError:
        return canonical
    parts = [document.title] if document.title else []
    return "\n\n".join([*parts, *document.paragraphs])
