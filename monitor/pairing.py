"""Which removed and added paragraphs are one edited paragraph.

In a run of paragraphs that differ, an edited paragraph is paired with its most
similar counterpart, in order, so that it reads as changed rather than as removed
and added: the pairing with the most similarity in all (a weighted longest common
subsequence over the pairs alike enough).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from monitor import align

_WORDS = re.compile(r"\w+")
_SIMILAR = 0.5  # paragraphs at least this alike are one edited paragraph
_MAX_PAIRINGS = 250_000  # paragraph pairs compared in one block; beyond, a rewrite
_SHORT = 400  # characters in two paragraphs short enough to compare letter by letter
_MAX_LETTER_PAIRS = 40_000  # short paragraphs compared letter by letter in one block
_CODE_POINTS = 0x110000 - 0x800  # characters that are not surrogates


def pair_similar(olds: list[int], news: list[int], old: Sequence[str],
                  new: Sequence[str]) -> list[tuple[int, int]]:
    """The in-order pairing of similar paragraphs with the most similarity in all."""
    n, m = len(olds), len(news)
    if not n or not m or n * m > _MAX_PAIRINGS:
        return []
    by_row: dict[int, list[tuple[int, float]]] = {}
    for (a, b), s in _similar_pairs([old[i] for i in olds], [new[j] for j in news]).items():
        by_row.setdefault(a + 1, []).append((b + 1, s))
    # best[a][b]: the most similarity in all pairing the first a olds with the first b
    # news, max(best[a-1][b], best[a][b-1], best[a-1][b-1] + s(a, b)). A row is the
    # running maximum of the row above with its few pairs added: a C loop per row.
    best = [[0.0] * (m + 1)]
    for a in range(1, n + 1):
        above = best[-1]
        row = above.copy()
        for b, s in by_row.get(a, ()):
            row[b] = max(row[b], above[b - 1] + s)
        best.append(list(accumulate(row, max)))
    pairs: list[tuple[int, int]] = []
    a, b = n, m
    while a and b:
        if best[a][b] == best[a - 1][b]:
            a -= 1
        elif best[a][b] == best[a][b - 1]:
            b -= 1
        else:
            pairs.append((olds[a - 1], news[b - 1]))
            a, b = a - 1, b - 1
    return pairs[::-1]


def _similar_pairs(olds: list[str], news: list[str]) -> dict[tuple[int, int], float]:
    """How alike pairs of paragraphs are, 0..1, for the pairs alike enough to be one
    edited paragraph (_SIMILAR or more; no other pair is ever paired): the share of
    words they have in common; or, for short paragraphs that no other matches by
    words, the share of letters (a one-word edit leaves a one-word paragraph with no
    word in common, and so does a look-alike letter planted in each word of a name).

    500 edited paragraphs are 250,000 pairs: too many to score in Python
    (SequenceMatcher's ratio on the short ones took a minute). rapidfuzz compares
    them in C, and only the pairs it finds alike are scored here. The share of words
    is the Indel similarity of the sorted word ids (a common subsequence of two
    sorted sets is their intersection); the share of letters, 1 - letters edited /
    the longer length (Levenshtein: about 10 us a pair of short paragraphs, so at
    most _MAX_LETTER_PAIRS pairs are compared so)."""
    ids: dict[str, int] = {}
    old_words = [sorted({ids.setdefault(w, len(ids)) for w in _WORDS.findall(p)}) for p in olds]
    new_words = [sorted({ids.setdefault(w, len(ids)) for w in _WORDS.findall(p)}) for p in news]
    near = _SIMILAR - 1e-9  # the filter must not lose a pair to rounding
    scores: dict[tuple[int, int], float] = {}
    for a, b, _ in align.similar(_as_keys(old_words, len(ids)), _as_keys(new_words, len(ids)),
                                 near):
        words = _shared_words(old_words[a], new_words[b])
        if words >= _SIMILAR:
            scores[a, b] = words
    # Letters: for paragraphs no other matches by words, where the two together are
    # short (each old one against the new ones short enough to go with it: a slice).
    paired_old, paired_new = {a for a, _ in scores}, {b for _, b in scores}
    alone_old = [a for a in range(len(olds)) if a not in paired_old and len(olds[a]) <= _SHORT]
    alone_new = [b for b in range(len(news)) if b not in paired_new and len(news[b]) <= _SHORT]
    if len(alone_old) * len(alone_new) > _MAX_LETTER_PAIRS:
        return scores  # a block this rewritten is paired by words alone
    alone_new.sort(key=lambda b: len(news[b]))
    texts = [news[b] for b in alone_new]
    lengths = [len(t) for t in texts]
    for a in alone_old:
        fits = bisect_right(lengths, _SHORT - len(olds[a]))
        for _, y, letters in align.similar([olds[a]], texts[:fits], _SIMILAR, letters=True):
            scores[a, alone_new[y]] = letters
    return scores


def _as_keys(word_ids: list[list[int]], words: int) -> list[str] | list[list[int]]:
    """Word ids as strings, a character per word (skipping the surrogates): rapidfuzz
    reads a string in place, where it converts a list on every comparison (0.07 s
    against 0.3 s for 500 paragraphs against 500). Lists past the last code point."""
    if words > _CODE_POINTS:
        return word_ids
    return ["".join([chr(i if i < 0xD800 else i + 0x800) for i in ids]) for ids in word_ids]


def _shared_words(a: list[int], b: list[int]) -> float:
    total = len(a) + len(b)
    return 2 * len(set(a).intersection(b)) / total if total else 0.0
