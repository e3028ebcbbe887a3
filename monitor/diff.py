"""The difference between two versions of a document, as classified hunks.

Paragraphs are aligned first: unchanged ones are matched in order, an edited
paragraph is paired with its most similar counterpart (so it reads as changed,
not as removed and added), and a paragraph that reappears word for word
elsewhere is moved. Inside a changed paragraph the diff is word by word, over
tokens that include the spaces and punctuation between words, so the new
paragraph can be rebuilt exactly from the old one and the ops.

A field that was unknown (None) in either version is not compared: learning a
title the previous capture lacked is not an edit of the title.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor import align, classify
from monitor.classify import WordOp
from monitor.document import Document
from monitor.errors import MonitorError
from monitor.pairing import pair_similar

__all__ = ["Change", "Hunk", "WordOp", "apply_change", "diff_documents", "render_word_diff"]



@dataclass(frozen=True)
class Hunk:
    kind: str
    old_index: int | None  # paragraph index in the old version (0-based)
    new_index: int | None  # paragraph index in the new version (0-based)
    old: str  # the whole old paragraph or field
    new: str  # the whole new paragraph or field
    ops: tuple[WordOp, ...] = ()
    classes: tuple[str, ...] = ()  # every class found, sorted; kind is the most telling

    @property
    def significance(self) -> str:
        return classify.hunk_significance(self.kind, self.ops)

    def to_dict(self) -> dict[str, Any]:
        """The full shape, for reports: both texts, and each op with its old and new."""
        return {
            "kind": self.kind, "old_index": self.old_index, "new_index": self.new_index,
            "old": self.old, "new": self.new, "classes": list(self.classes),
            "ops": [[op.tag, op.old, op.new] for op in self.ops],
        }

    def to_stored(self) -> dict[str, Any]:
        """The shape kept in the log: each text once. A hunk with ops leaves out the
        old and new texts (the ops join to them), and an op keeps only the text it
        has: [tag, text] for equal, delete and insert, [tag, old, new] for replace."""
        if not self.ops:
            return self.to_dict()
        return {
            "kind": self.kind, "old_index": self.old_index, "new_index": self.new_index,
            "classes": list(self.classes), "ops": [_stored_op(op) for op in self.ops],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hunk:
        """Reads either shape (`to_dict`, and `to_stored`)."""
        try:
            ops = tuple(_read_op(op) for op in data["ops"])
            old = data["old"] if "old" in data or not ops else "".join(op.old for op in ops)
            new = data["new"] if "new" in data or not ops else "".join(op.new for op in ops)
            hunk = cls(
                kind=_text(data["kind"]), old_index=_index(data["old_index"]),
                new_index=_index(data["new_index"]), old=_text(old), new=_text(new), ops=ops,
                classes=tuple(_text(c) for c in data["classes"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MonitorError(f"stored change is malformed: {exc!r}") from exc
        if hunk.kind not in classify.KINDS or any(op.tag not in classify.TAGS for op in hunk.ops):
            raise MonitorError(f"stored change has an unknown hunk kind or op: {hunk.kind!r}")
        return hunk


def _stored_op(op: WordOp) -> list[str]:
    if op.tag == classify.EQUAL:
        return [op.tag, op.new]
    if op.tag == classify.DELETE:
        return [op.tag, op.old]
    if op.tag == classify.INSERT:
        return [op.tag, op.new]
    return [op.tag, op.old, op.new]


def _read_op(op: Any) -> WordOp:
    if not isinstance(op, list | tuple):
        raise TypeError(f"expected an op, got {op!r}")
    if len(op) == 3:
        tag, old, new = op
        return WordOp(_text(tag), _text(old), _text(new))
    tag, value = op  # the stored shape: one text
    tag, value = _text(tag), _text(value)
    if tag == classify.EQUAL:
        return WordOp(tag, value, value)
    if tag == classify.DELETE:
        return WordOp(tag, value, "")
    if tag == classify.INSERT:
        return WordOp(tag, "", value)
    raise ValueError(f"op {tag!r} needs both texts")


@dataclass(frozen=True)
class Change:
    hunks: tuple[Hunk, ...] = ()
    # The new version's fields as captured, so the change rebuilds it exactly
    # even where an unknown field was filled in (which is not a hunk).
    new_title: str | None = None
    new_published: str | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted({c for h in self.hunks for c in h.classes}))

    @property
    def significance(self) -> str:
        return classify.overall_significance(h.significance for h in self.hunks)

    @property
    def is_empty(self) -> bool:
        return not self.hunks

    def summary(self) -> str:
        """One line for people, e.g. '1 number changed in paragraph 3; 1 paragraph added'."""
        return classify.summarize(_summary_item(h) for h in self.hunks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hunks": [h.to_dict() for h in self.hunks],
            "new_title": self.new_title, "new_published": self.new_published,
        }

    def to_stored(self) -> dict[str, Any]:
        """The shape kept in ChangeDetected (schema 2): each text once; see Hunk."""
        return {
            "hunks": [h.to_stored() for h in self.hunks],
            "new_title": self.new_title, "new_published": self.new_published,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """Reads either shape (`to_dict`, and `to_stored`)."""
        try:
            hunks, title, published = data["hunks"], data["new_title"], data["new_published"]
            return cls(
                hunks=tuple(Hunk.from_dict(h) for h in hunks),
                new_title=None if title is None else _text(title),
                new_published=None if published is None else _text(published),
            )
        except (KeyError, TypeError) as exc:
            raise MonitorError(f"stored change is malformed: {exc!r}") from exc


def stored_change(data: dict[str, Any]) -> dict[str, Any]:
    """A change as ChangeDetected schema 1 stored it (the full shape), in the shape
    schema 2 stores (each text once). For the mapper's upcaster: a hunk it cannot
    read is left as it was, for Change.from_dict to call malformed when it is used."""
    hunks = data.get("hunks") if isinstance(data, dict) else None
    if not isinstance(hunks, list):
        return data
    compact = []
    for hunk in hunks:
        try:
            compact.append(Hunk.from_dict(hunk).to_stored())
        except (MonitorError, TypeError, AttributeError):
            compact.append(hunk)
    return {**data, "hunks": compact}


def _summary_item(hunk: Hunk) -> tuple[str, int, str]:
    """(label, how many, where) for `classify.summarize`."""
    if hunk.kind == classify.DATE:
        return hunk.kind, 1, f"from {hunk.old} to {hunk.new}"
    if hunk.kind not in classify.WORD_CLASSES:
        return hunk.kind, 1, ""
    count = sum(1 for c in classify.op_classes(hunk.ops) if c == hunk.kind)
    names = hunk.kind == classify.WORDING and hunk.significance == classify.HIGH
    return classify.NAME if names else hunk.kind, count, str((hunk.new_index or 0) + 1)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _index(value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(f"expected a paragraph index, got {value!r}")
    return value


def word_ops(old: str, new: str) -> tuple[WordOp, ...]:
    """Word-level diff: the old texts of the ops join to `old`, the new to `new`."""
    a, b, found = align.word_opcodes(old, new)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in found:
        if tag == classify.REPLACE and i2 - i1 == j2 - j1:  # word for word: one op per word
            pairs = zip(a[i1:i2], b[j1:j2], strict=True)
            # An equal pair only where the alignment gave up on a too large middle.
            ops.extend(WordOp(classify.EQUAL if x == y else classify.REPLACE, x, y)
                       for x, y in pairs)
        else:
            ops.append(WordOp(tag, "".join(a[i1:i2]), "".join(b[j1:j2])))
    return tuple(ops)


def _edited(kind: str | None, old_index: int | None, new_index: int | None,
            old: str, new: str) -> Hunk:
    """A field or paragraph edited in place; `kind` None: the most telling class."""
    ops = word_ops(old, new)
    found = set(classify.op_classes(ops))
    named = kind or classify.most_significant(found)
    return Hunk(named, old_index, new_index, old, new, ops, tuple(sorted(found | {named})))


def _whole(kind: str, old_index: int | None, new_index: int | None, old: str, new: str) -> Hunk:
    return Hunk(kind, old_index, new_index, old, new, (), (kind,))


def diff_documents(old: Document, new: Document) -> Change:
    hunks: list[Hunk] = []
    if old.title is not None and new.title is not None and old.title != new.title:
        hunks.append(_edited(classify.TITLE, None, None, old.title, new.title))
    if old.published is not None and new.published is not None and old.published != new.published:
        hunks.append(_edited(classify.DATE, None, None, old.published, new.published))
    hunks.extend(_paragraph_hunks(old.paragraphs, new.paragraphs))
    return Change(tuple(hunks), new_title=new.title, new_published=new.published)


def _paragraph_hunks(old: Sequence[str], new: Sequence[str]) -> list[Hunk]:
    blocks = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in align.opcodes(old, new)
              if tag != classify.EQUAL]
    moves = _moves(blocks, old, new)
    moved_to = set(moves.values())
    # (where in the new version, hunk): sorted at the end into reading order
    placed = [(j, _whole(classify.PARAGRAPH_MOVED, i, j, old[i], new[j])) for i, j in moves.items()]
    for i1, i2, j1, j2 in blocks:
        olds = [i for i in range(i1, i2) if i not in moves]
        news = [j for j in range(j1, j2) if j not in moved_to]
        oi = nj = 0
        for pi, pj in [*pair_similar(olds, news, old, new), (i2, j2)]:
            while oi < len(olds) and olds[oi] < pi:
                where = news[nj] if nj < len(news) else j2
                i = olds[oi]
                placed.append((where, _whole(classify.PARAGRAPH_REMOVED, i, None, old[i], "")))
                oi += 1
            while nj < len(news) and news[nj] < pj:
                j = news[nj]
                placed.append((j, _whole(classify.PARAGRAPH_ADDED, None, j, "", new[j])))
                nj += 1
            if pi < i2:  # a pair, not the end of the block
                placed.append((pj, _edited(None, pi, pj, old[pi], new[pj])))
                oi, nj = oi + 1, nj + 1
    placed.sort(key=lambda item: item[0])  # stable: within one place, the block's order
    return [hunk for _, hunk in placed]


def _moves(blocks: list[tuple[int, int, int, int]], old: Sequence[str],
           new: Sequence[str]) -> dict[int, int]:
    """old index -> new index of paragraphs removed in one place and added,
    word for word, in another."""
    waiting: dict[str, deque[int]] = {}
    for _, _, j1, j2 in blocks:
        for j in range(j1, j2):
            waiting.setdefault(new[j], deque()).append(j)
    moves: dict[int, int] = {}
    for i1, i2, _, _ in blocks:
        for i in range(i1, i2):
            if waiting.get(old[i]):
                moves[i] = waiting[old[i]].popleft()
    return moves


def apply_change(old: Document, change: Change) -> Document:
    """Rebuild the new version from the old one and the change between them."""
    fields = {classify.TITLE: change.new_title, classify.DATE: change.new_published}
    placed: dict[int, str] = {}
    consumed: set[int] = set()
    for hunk in change.hunks:
        if hunk.kind in fields:
            _expect(old.title if hunk.kind == classify.TITLE else old.published, hunk.old)
            fields[hunk.kind] = hunk.new
            continue
        if hunk.old_index is not None:
            _expect(_at(old.paragraphs, hunk.old_index), hunk.old)
            consumed.add(hunk.old_index)
        if hunk.new_index is not None:
            placed[hunk.new_index] = _rebuilt(hunk)
    kept = iter([p for i, p in enumerate(old.paragraphs) if i not in consumed])
    size = len(placed) + len(old.paragraphs) - len(consumed)
    if any(not 0 <= j < size for j in placed):
        raise MonitorError("change does not apply: paragraph index out of range")
    paragraphs = tuple(placed[j] if j in placed else next(kept) for j in range(size))
    return Document(fields[classify.TITLE], fields[classify.DATE], paragraphs)


def _rebuilt(hunk: Hunk) -> str:
    if not hunk.ops:
        return hunk.new
    _expect("".join(op.old for op in hunk.ops), hunk.old)
    return "".join(op.new for op in hunk.ops)


def _at(paragraphs: Sequence[str], index: int) -> str | None:
    return paragraphs[index] if 0 <= index < len(paragraphs) else None


def _expect(actual: str | None, expected: str) -> None:
    if actual != expected:
        raise MonitorError("change does not apply: the old text is not the one it was made from")


def render_word_diff(hunk: Hunk) -> list[tuple[str, str]]:
    """(tag, text) runs for reports: tag is equal, delete or insert."""
    if not hunk.ops:
        if hunk.kind == classify.PARAGRAPH_ADDED:
            return [(classify.INSERT, hunk.new)]
        if hunk.kind == classify.PARAGRAPH_REMOVED:
            return [(classify.DELETE, hunk.old)]
        return [(classify.EQUAL, hunk.new)]
    runs: list[tuple[str, str]] = []
    for op in hunk.ops:
        if op.tag == classify.EQUAL:
            runs.append((classify.EQUAL, op.new))
            continue
        if op.old:
            runs.append((classify.DELETE, op.old))
        if op.new:
            runs.append((classify.INSERT, op.new))
    return runs

