"""Where the corpus harness edits a page: one word inside a known piece of text.

A piece of text (a truth paragraph, or a segment of trafilatura's evaluation data) is
looked for literally in the page's HTML source, a run of whitespace matching any run
(so a paragraph hard-wrapped in the source is found). An occurrence counts only when
an edit in it shows: the edited word must appear in the text of the page's body as a
reader sees it (not in the <title>, an attribute, a script). A piece with exactly one
such occurrence can be edited: its first word of five letters or more is replaced by
NEW_WORD. Of the pieces that can be, the one that comes last in the source is edited:
the tail of an article, where extraction lost edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.sources.blocks import element_paragraphs, parse_html

NEW_WORD = "xylograph"  # in no page: the edit is always a real one
_WORD = re.compile(r"[^\W\d_]{5,}")


@dataclass(frozen=True)
class Edit:
    markup: str  # the page with the edit
    piece: str  # the text it was made in
    word: str  # the word replaced by NEW_WORD
    at: int  # where the word was in the source


def edit_in(markup: str, pieces: tuple[str, ...]) -> Edit | None:
    """The page with one word replaced inside the last piece (in source order) that
    can be edited, or None when none can."""
    before = _shown(markup)  # an edit made earlier in the page
    found = [edit for edit in (_edit_piece(markup, piece, before) for piece in pieces) if edit]
    return max(found, key=lambda edit: edit.at) if found else None


def _edit_piece(markup: str, piece: str, before: int) -> Edit | None:
    tokens = piece.split()
    if not tokens:
        return None
    pattern = re.compile(r"\s+".join(re.escape(token) for token in tokens))
    shown: list[Edit] = []
    for occurrence in pattern.finditer(markup):
        word = _WORD.search(markup, occurrence.start(), occurrence.end())
        if word is None:
            return None  # no word long enough to edit
        edited = markup[:word.start()] + NEW_WORD + markup[word.end():]
        if _shown(edited) > before:
            shown.append(Edit(edited, piece, word.group(), word.start()))
    return shown[0] if len(shown) == 1 else None


def _shown(markup: str) -> int:
    """How many times NEW_WORD is in the text of the page's body."""
    body = parse_html(markup).find("body")
    return 0 if body is None else sum(p.count(NEW_WORD) for p in element_paragraphs(body))
