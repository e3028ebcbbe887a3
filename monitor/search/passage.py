"""The passage of a text that shows why it matched: a few lines around the matches,
as plain text segments marked match or not. Never markup: each page, the API and
the terminal show the segments in their own way, escaped there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.search.parse import Query, Term
from monitor.search.words import WORD, fold

BEFORE = 90  # characters of context before the passage's first match
LENGTH = 320  # characters a passage spans, about two lines
ELLIPSIS = "…"
# Words read looking for a passage with every term once one with some is found: a
# 200,000-word text would take a third of a second to read whole.
SCAN_WORDS = 20_000
_SPACES = re.compile(r"\s+")
PARAGRAPH = " ¶ "  # where the passage goes from one paragraph to the next
_FOCI = 100  # matches tried as the passage's first (a common word has thousands)

Span = tuple[int, int, int]  # start, end (characters), the term's number


@dataclass(frozen=True)
class Segment:
    text: str
    match: bool


def passage(text: str, query: Query) -> tuple[Segment, ...]:
    """The part of `text` where the most of the query's terms match, the matches
    marked; the text's opening, unmarked, when nothing matches (PostgreSQL stores the
    positions of words past the 16,383rd as that one, so a phrase there may be found
    by the index and not here)."""
    spans = _find(text, query.terms)
    if not spans:
        end = _word_end(text, 0, min(len(text), LENGTH))
        return _segments(text, 0, end, [])
    start, end = _window(text, spans)
    return _segments(text, start, end, spans)


def _find(text: str, terms: tuple[Term, ...]) -> list[Span]:
    """Where the terms match, in text order: all of them, or those up to a passage's
    length past the first place that holds every term (or SCAN_WORDS words on, once
    one matched)."""
    exact: dict[str, list[int]] = {}  # a term's last key -> the terms ending in it
    for number, term in enumerate(terms):
        if not term.prefix:
            exact.setdefault(term.keys[-1], []).append(number)
    prefixed = [(term.keys[-1], number) for number, term in enumerate(terms) if term.prefix]
    keys: list[str] = []
    starts: list[int] = []
    spans: list[Span] = []
    enough: int | None = None  # once a passage holds every term: where it surely ends
    for found in WORD.finditer(text):
        if enough is not None and found.start() > enough:
            return spans
        key = fold(found.group())
        keys.append(key)
        starts.append(found.start())
        ending = exact.get(key, [])
        if prefixed:
            ending = ending + [n for last, n in prefixed if key.startswith(last)]
        for number in ending:
            count = len(terms[number].keys)
            # (fewer words read than the phrase has: the slice is shorter, never equal)
            if count == 1 or keys[-count:-1] == list(terms[number].keys[:-1]):
                spans.append((starts[-count], found.end(), number))
        if ending and spans and enough is None and _all_terms_near(spans, len(terms)):
            enough = spans[-1][1] + LENGTH  # the rest of its matches are marked too
        if spans and len(keys) > SCAN_WORDS:
            return spans
    return spans


def _all_terms_near(spans: list[Span], count: int) -> bool:
    end = spans[-1][1]
    return len({n for s, _, n in spans if s >= end - LENGTH + BEFORE}) == count


def _window(text: str, spans: list[Span]) -> tuple[int, int]:
    """Around the match whose neighbourhood holds the most different terms (the first
    such), cut at word boundaries."""
    best, best_terms = spans[0], 0
    for i, span in enumerate(spans[:_FOCI]):
        start = max(0, span[0] - BEFORE)
        near = spans[max(0, i - _FOCI):i + _FOCI]
        terms = len({n for s, e, n in near if s >= start and e <= start + LENGTH})
        if terms > best_terms:
            best, best_terms = span, terms
    start = _word_start(text, max(0, best[0] - BEFORE), best[0])
    end = max(_word_end(text, best[1], min(len(text), start + LENGTH)), best[1])
    return start, end


def _word_start(text: str, at: int, limit: int) -> int:
    """`at`, or past the word it falls inside (never past `limit`)."""
    while 0 < at < limit and text[at - 1].isalnum() and text[at].isalnum():
        at += 1
    return at


def _word_end(text: str, limit: int, at: int) -> int:
    """`at`, or back before the word it falls inside (never before `limit`)."""
    while limit < at < len(text) and text[at - 1].isalnum() and text[at].isalnum():
        at -= 1
    return at


def _segments(text: str, start: int, end: int, spans: list[Span]) -> tuple[Segment, ...]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    segments: list[Segment] = []
    if start > 0:
        segments.append(Segment(ELLIPSIS, False))
    at = start
    for span_start, span_end in _merged(spans):
        if span_end <= at or span_start >= end:
            continue
        if span_start > at:
            segments.append(Segment(_one_line(text[at:span_start]), False))
        segments.append(Segment(_one_line(text[max(span_start, at):span_end]), True))
        at = span_end
    if at < end:
        segments.append(Segment(_one_line(text[at:end]), False))
    if end < len(text):
        segments.append(Segment(ELLIPSIS, False))
    return tuple(s for s in segments if s.text)


def _merged(spans: list[Span]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end, _ in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _one_line(text: str) -> str:
    return _SPACES.sub(lambda m: PARAGRAPH if "\n" in m.group() else " ", text)


def plain_text(segments: tuple[Segment, ...]) -> str:
    return "".join(s.text for s in segments)
