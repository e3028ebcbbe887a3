"""A change laid out for the diff page: the hunks of `monitor.diff` in reading order,
with the unchanged paragraphs between them as context (the ones far from any change
folded away), for the inline and the side-by-side view alike.

Pure, and no diffing of its own: the hunks say what changed and where; the
paragraphs no hunk touches are unchanged, and they follow each other in the same
order in both versions (what `monitor.diff.apply_change` relies on), which places a
removed paragraph after the last unchanged or edited one that came before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor import classify
from monitor.alerts import wording
from monitor.diff import Change, Hunk
from monitor.document import Document
from monitor.i18n import Reader
from monitor.report.render import display_runs, lookalikes
from monitor.untrusted import printable

CONTEXT = 1  # unchanged paragraphs shown next to a change; the others are folded
_FIELDS = (classify.TITLE, classify.DATE)


@dataclass(frozen=True)
class Shown:
    """One hunk as the page shows it."""

    hunk: Hunk
    label: str  # 'paragraph 3 · number · high', in the reader's language
    notes: tuple[str, ...]  # look-alike letters swapped: 'U+0061 … → U+0430 …'
    runs: tuple[tuple[str, str], ...]  # (equal | delete | insert, text): inline
    old: tuple[tuple[str, str], ...]  # equal and delete runs: the left column
    new: tuple[tuple[str, str], ...]  # equal and insert runs: the right column

    @property
    def kind(self) -> str:
        return self.hunk.kind

    @property
    def significance(self) -> str:
        return self.hunk.significance


@dataclass(frozen=True)
class Block:
    kind: str  # "hunk" | "same" (shown context) | "fold" (unchanged, folded away)
    shown: Shown | None = None
    paragraphs: tuple[str, ...] = ()


def layout(old: Document, new: Document, change: Change, reader: Reader) -> list[Block]:
    """The blocks of the page, top to bottom."""
    fields = [h for h in change.hunks if h.kind in _FIELDS]
    body = [h for h in change.hunks if h.kind not in _FIELDS]
    blocks = [Block("hunk", shown(h, reader)) for h in fields]
    same = _unchanged(len(old.paragraphs), len(new.paragraphs), body)
    after = _removed_places(len(old.paragraphs), body, same)
    cursor = 0
    for n, hunk in enumerate(body):
        place = hunk.new_index if hunk.new_index is not None else after[hunk.old_index or 0]
        place = max(place, cursor)
        blocks += _context(new.paragraphs, same, cursor, place, first=n == 0)
        blocks.append(Block("hunk", shown(hunk, reader)))
        cursor = max(cursor, hunk.new_index + 1 if hunk.new_index is not None else place)
    blocks += _context(new.paragraphs, same, cursor, len(new.paragraphs), first=not body,
                       last=True)
    return blocks


def shown(hunk: Hunk, reader: Reader) -> Shown:
    runs = tuple(display_runs(hunk))
    old: tuple[tuple[str, str], ...]
    new: tuple[tuple[str, str], ...]
    if hunk.kind == classify.PARAGRAPH_MOVED:  # the same words on both sides
        old = new = ((classify.EQUAL, printable(hunk.new)),)
    else:
        old = _trimmed(tuple(r for r in runs if r[0] != classify.INSERT), hunk.old)
        new = _trimmed(tuple(r for r in runs if r[0] != classify.DELETE), hunk.new)
    return Shown(hunk, label(hunk, reader), lookalikes(hunk), runs, old, new)


def _trimmed(runs: tuple[tuple[str, str], ...], text: str) -> tuple[tuple[str, str], ...]:
    """One side's runs without the space an insertion on the other side left at an
    edge (" Minister" where "Deputy Minister" was added), unless the text has it."""
    found = list(runs)
    if found and found[0][0] == classify.EQUAL and not text[:1].isspace():
        found[0] = (classify.EQUAL, found[0][1].lstrip())
    if found and found[-1][0] == classify.EQUAL and not text[-1:].isspace():
        found[-1] = (classify.EQUAL, found[-1][1].rstrip())
    return tuple(r for r in found if r[1])


def label(hunk: Hunk, reader: Reader) -> str:
    """Where, what kind, how much it matters: 'paragraph 3 · number, wording · high'."""
    kinds = [hunk.kind, *(c for c in hunk.classes if c != hunk.kind)]
    names = ", ".join(wording.kind_name(k, reader) for k in kinds if k not in _FIELDS)
    parts = [wording.where(hunk, reader), names, wording.level(hunk.significance, reader)]
    return " · ".join(p for p in parts if p)


def _unchanged(old_count: int, new_count: int, body: Sequence[Hunk]) -> dict[int, int]:
    """new index -> old index of the paragraphs no hunk touches."""
    placed = {h.new_index for h in body if h.new_index is not None}
    consumed = {h.old_index for h in body if h.old_index is not None}
    news = [j for j in range(new_count) if j not in placed]
    olds = [i for i in range(old_count) if i not in consumed]
    return dict(zip(news, olds, strict=False))


def _removed_places(old_count: int, body: Sequence[Hunk], same: dict[int, int]) -> list[int]:
    """For each old paragraph index: the place in the new version just after the last
    unchanged or edited paragraph before it (where a removed one is shown)."""
    new_of_old = {i: j for j, i in same.items()}
    for h in body:
        if h.kind != classify.PARAGRAPH_MOVED and h.old_index is not None \
                and h.new_index is not None:
            new_of_old[h.old_index] = h.new_index
    places, best = [], 0
    for i in range(old_count + 1):
        places.append(best)
        if i in new_of_old:
            best = max(best, new_of_old[i] + 1)
    return places


def _context(paragraphs: Sequence[str], same: dict[int, int], start: int, end: int, *,
             first: bool, last: bool = False) -> list[Block]:
    """The unchanged paragraphs in [start, end): CONTEXT of them next to each change,
    the rest folded."""
    texts = tuple(printable(paragraphs[j]) for j in range(start, end) if j in same)
    if not texts:
        return []
    lead = 0 if first else CONTEXT
    tail = 0 if last else CONTEXT
    if len(texts) <= lead + tail + 1:
        return [Block("same", paragraphs=texts)]
    blocks = [Block("same", paragraphs=texts[:lead])] if lead else []
    blocks.append(Block("fold", paragraphs=texts[lead:len(texts) - tail]))
    if tail:
        blocks.append(Block("same", paragraphs=texts[len(texts) - tail:]))
    return blocks
