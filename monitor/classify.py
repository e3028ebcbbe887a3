"""What kind of edit a hunk is, and how much it matters.

An edit of a word run is, from least to most telling:

- typography: only quotes, dashes, an ellipsis or spacing around punctuation;
- confusable: a letter swapped for a look-alike from another script (Cyrillic
  a, U+0430, for Latin a), which no reader sees but every search and hash does;
- wording: different words;
- number: different digits, or different numbers in words (ru, kk, en).

Significance is what an alert leads with: low (invisible or cosmetic), medium
(new or reworded text), high (numbers, dates, the title, removed text, names).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from confusable_homoglyphs import categories, confusables

from monitor import numbers

TYPOGRAPHY = "typography"
CONFUSABLE = "confusable"
NUMBER = "number"
WORDING = "wording"
PARAGRAPH_ADDED = "paragraph_added"
PARAGRAPH_REMOVED = "paragraph_removed"
PARAGRAPH_MOVED = "paragraph_moved"
TITLE = "title"
DATE = "date"

# Word-run classes, least significant first: a hunk takes the last one it has.
WORD_CLASSES = (TYPOGRAPHY, CONFUSABLE, WORDING, NUMBER)
KINDS = (*WORD_CLASSES, PARAGRAPH_ADDED, PARAGRAPH_REMOVED, PARAGRAPH_MOVED, TITLE, DATE)

LOW, MEDIUM, HIGH, NONE = "low", "medium", "high", "none"
_LEVELS = (NONE, LOW, MEDIUM, HIGH)
_KIND_LEVEL = {
    TYPOGRAPHY: LOW, CONFUSABLE: LOW, WORDING: MEDIUM, NUMBER: HIGH,
    PARAGRAPH_ADDED: MEDIUM, PARAGRAPH_MOVED: MEDIUM, PARAGRAPH_REMOVED: HIGH,
    TITLE: HIGH, DATE: HIGH,
}

NAME = "name"  # not a kind: how a summary calls a wording edit that touches a name

EQUAL, INSERT, DELETE, REPLACE = "equal", "insert", "delete", "replace"
TAGS = (EQUAL, INSERT, DELETE, REPLACE)


@dataclass(frozen=True)
class WordOp:
    """One step of a word-level diff: joining the `old` texts rebuilds the old
    paragraph, joining the `new` texts rebuilds the new one."""

    tag: str  # equal | insert | delete | replace
    old: str
    new: str


# Written as escapes: the characters themselves are the look-alikes at issue.
_QUOTES = "\"'\u201c\u201d\u201e\u201f\u00ab\u00bb\u2018\u2019\u201a\u201b\u2039\u203a"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, dashes, minus
_TYPOGRAPHY_MAP = str.maketrans({**dict.fromkeys(_QUOTES, '"'), **dict.fromkeys(_DASHES, "-")})
_SPACE_AROUND_MARK = re.compile(r"\s*([^\w\s])\s*")
_SPACES = re.compile(r"\s+")
_DIGIT_RUNS = re.compile(r"\d+")
_WORD = re.compile(r"\w+")
_SENTENCE_END = ".!?…"
_LOOK_BACK = 64  # characters: normalized text has single spaces, and few openers in a row
_OPENERS = "\"'([{\u201c\u201e\u00ab\u2018\u201a\u2039"


def typography_key(text: str) -> str:
    """The text with every typographic choice erased: one kind of quote, one
    dash, '...' for an ellipsis, no spaces next to punctuation."""
    text = text.translate(_TYPOGRAPHY_MAP).replace("…", "...")
    return _SPACE_AROUND_MARK.sub(r"\1", _SPACES.sub(" ", text)).strip()


@cache
def _prototypes() -> dict[str, str]:
    """Each character of the Unicode confusables data mapped to one member of
    its look-alike group (the data lists, per character, the characters that
    share its prototype; the groups are the connected sets of those links)."""
    parent: dict[str, str] = {}

    def root(ch: str) -> str:
        while parent.get(ch, ch) != ch:
            ch = parent[ch]
        return ch

    for ch, entries in confusables.confusables_data.items():
        for entry in entries:
            if len(ch) == 1 and len(entry["c"]) == 1:
                a, b = sorted((root(ch), root(entry["c"])))
                if a != b:
                    parent[b] = a
    return {ch: root(ch) for ch in parent}


@lru_cache(maxsize=4096)
def _look_alike(a: str, b: str) -> bool:
    """Two letters of one look-alike group, from different scripts (or
    compatibility forms, like a full-width letter): look-alikes within one
    script, such as Latin 'l' and 'I', are different letters."""
    if not (a.isalpha() and b.isalpha()):
        return False
    groups = _prototypes()
    if groups.get(a, a) != groups.get(b, b):
        return False
    nfkc_equal = unicodedata.normalize("NFKC", a) == unicodedata.normalize("NFKC", b)
    return nfkc_equal or categories.alias(a) != categories.alias(b)


def is_confusable(old: str, new: str) -> bool:
    """Equal once look-alike letters across scripts are taken as one letter."""
    if len(old) != len(new) or old == new:
        return False
    return all(x == y or _look_alike(x, y) for x, y in zip(old, new, strict=True))


def classify_edit(old: str, new: str) -> str:
    """The class of one replaced, inserted or deleted word run."""
    old_key, new_key = typography_key(old), typography_key(new)
    if old_key == new_key:
        return TYPOGRAPHY
    if is_confusable(old_key, new_key):
        return CONFUSABLE
    if _DIGIT_RUNS.findall(old) != _DIGIT_RUNS.findall(new):
        return NUMBER
    if numbers.number_words_differ(old, new):
        return NUMBER
    return WORDING


def op_classes(ops: Iterable[WordOp]) -> list[str]:
    """The class of every edit in `ops`, in order (equal ops are skipped)."""
    return [classify_edit(op.old, op.new) for op in ops if op.tag != EQUAL]


def most_significant(classes: Iterable[str]) -> str:
    """The class that names a changed paragraph: the most telling one found."""
    return max(classes, key=WORD_CLASSES.index, default=WORDING)


def changes_a_name(ops: Sequence[WordOp]) -> bool:
    """A reworded run replaces or deletes a capitalised word that does not
    start a sentence: in an official text that is a name, a body or a title
    ('Artur Lastayev', 'Republic of Kazakhstan')."""
    before = ""  # the end of the text before the op: enough to tell where a sentence starts
    for op in ops:
        if op.tag in (REPLACE, DELETE) and classify_edit(op.old, op.new) == WORDING:
            for word in _WORD.finditer(op.old):
                # A bounded look back: the whole text before each word made a long
                # paragraph's classification quadratic.
                start = word.start()
                window = (op.old[start - _LOOK_BACK:start] if start >= _LOOK_BACK
                          else before + op.old[:start])
                if word[0][0].isupper() and not _starts_sentence(window):
                    return True
        before = (before + op.old[-_LOOK_BACK:])[-_LOOK_BACK:]
    return False


def _starts_sentence(text_before: str) -> bool:
    tail = text_before.rstrip().rstrip(_OPENERS).rstrip()
    return not tail or tail[-1] in _SENTENCE_END


def hunk_significance(kind: str, ops: Sequence[WordOp] = ()) -> str:
    if kind == WORDING and changes_a_name(ops):
        return HIGH
    return _KIND_LEVEL[kind]


def overall_significance(levels: Iterable[str]) -> str:
    """The highest level among `levels`; "none" when there are none."""
    return max(levels, key=_LEVELS.index, default=NONE)


# Summary phrases, most telling first: (one, many), where {n} is the count.
_PHRASES = {
    TITLE: ("title changed", "title changed"),
    DATE: ("date changed", "date changed"),
    NUMBER: ("{n} number changed", "{n} numbers changed"),
    NAME: ("{n} wording edit touching a name", "{n} wording edits touching a name"),
    PARAGRAPH_REMOVED: ("{n} paragraph removed", "{n} paragraphs removed"),
    WORDING: ("{n} wording edit", "{n} wording edits"),
    PARAGRAPH_ADDED: ("{n} paragraph added", "{n} paragraphs added"),
    PARAGRAPH_MOVED: ("{n} paragraph moved", "{n} paragraphs moved"),
    CONFUSABLE: ("{n} look-alike letter swap", "{n} look-alike letter swaps"),
    TYPOGRAPHY: ("{n} typographic change", "{n} typographic changes"),
}
_LISTED_PARAGRAPHS = 5


def summarize(items: Iterable[tuple[str, int, str]]) -> str:
    """One line from (label, count, where) items: `where` is a paragraph
    number for word-level edits, the old and new value for a date, or ''."""
    counts: dict[str, int] = {}
    places: dict[str, list[str]] = {}
    for label, count, where in items:
        counts[label] = counts.get(label, 0) + count
        if where and where not in places.setdefault(label, []):
            places[label].append(where)
    parts = []
    for label, (one, many) in _PHRASES.items():
        if label in counts:
            phrase = (one if counts[label] == 1 else many).format(n=counts[label])
            parts.append(phrase + _where(label, places.get(label, [])))
    return "; ".join(parts) or "no change"


def _where(label: str, places: list[str]) -> str:
    if not places:
        return ""
    if label == DATE:
        return " " + places[0]
    shown = ", ".join(places[:_LISTED_PARAGRAPHS])
    more = len(places) - _LISTED_PARAGRAPHS
    return f" in paragraph{'s' * (len(places) > 1)} {shown}" + (f" and {more} more" * (more > 0))
