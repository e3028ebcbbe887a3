"""Aligning two sequences for the diff: difflib-style opcodes, at C speed and bounded.

difflib's SequenceMatcher(autojunk=False) is quadratic, in Python: one paragraph of
20,000 words took 143 s to diff, and a cluster's time limit then killed that check
every time. rapidfuzz finds a longest common subsequence in C, bit-parallel (about
len(a) * len(b) / 64 word operations, once the common prefix and suffix are set
aside): that paragraph with four edits spread over it diffs in 0.48 s, and a document
of 500 edited paragraphs in 0.43 s (`python -m bench.diff_bench`, on two cores busy
with a load average of 25; they do better alone).

Words are aligned in two steps, which halves what the LCS has to align: first
chunks (a word with the spaces and punctuation after it), then, inside each run of
chunks that differ, the tokens themselves. The work stays bounded: a differing
middle larger than MAX_CELLS is not aligned (it becomes one replaced run), so no
page can hold a check for minutes, whatever its size.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

from monitor.numbers import NUMBER_PATTERN

# (tag, i1, i2, j1, j2) as difflib's get_opcodes gives them.
Opcode = tuple[str, int, int, int, int]
Block = tuple[int, int, int]  # a[i:i+n] == b[j:j+n]

# The most cells (len(a) * len(b) of the differing middle) aligned at once: about
# 0.4 s on one core. A paragraph of 30,000 words differing from end to end fits.
MAX_CELLS = 1_000_000_000

# A word and the separator after it; or the separator that opens a text. A number
# with its group and decimal separators (1,250,000,000; 3,5; 1 250 000) is one word:
# split at its commas, an edit read `1,[-250-]{+520+},000,000`. Letters written onto
# a number stay on it, as they did before (77th, 3,5млн).
_CHUNK = re.compile(rf"({NUMBER_PATTERN}\w*|\w+)(\W*)|\W+")


def opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Opcode]:
    """difflib-style opcodes turning `a` into `b` (equal, replace, delete, insert),
    for sequences whose items repeat little (paragraphs): runs are slid together."""
    return _as_opcodes(_slid(matching_blocks(a, b), a, b), len(a), len(b))


def matching_blocks(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Block]:
    """The runs `a` and `b` share, in order: a longest common subsequence, or only
    the common prefix and suffix when the middle is beyond MAX_CELLS."""
    size = min(len(a), len(b))
    prefix = 0
    while prefix < size and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < size - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    blocks: list[Block] = [(0, 0, prefix)] if prefix else []
    mid_a, mid_b = a[prefix:len(a) - suffix], b[prefix:len(b) - suffix]
    if mid_a and mid_b and len(mid_a) * len(mid_b) <= MAX_CELLS:
        found = Indel.opcodes(mid_a, mid_b).as_matching_blocks()
        blocks += [(m.a + prefix, m.b + prefix, m.size) for m in found if m.size]
    if suffix:
        blocks.append((len(a) - suffix, len(b) - suffix, suffix))
    return blocks


def word_opcodes(old: str, new: str) -> tuple[list[str], list[str], list[Opcode]]:
    """The word tokens of both texts (words, and the runs of spaces and punctuation
    between them) and the opcodes between them: chunks first, then tokens."""
    a, chunks_a, starts_a = _tokens(old)
    b, chunks_b, starts_b = _tokens(new)
    blocks: list[Block] = []
    i = j = 0  # the chunks after the last shared run
    for ci, cj, n in [*matching_blocks(chunks_a, chunks_b), (len(chunks_a), len(chunks_b), 0)]:
        a1, a2, b1, b2 = starts_a[i], starts_a[ci], starts_b[j], starts_b[cj]
        if a1 < a2 and b1 < b2:  # chunks that differ: align their tokens
            blocks += [(x + a1, y + b1, k) for x, y, k in matching_blocks(a[a1:a2], b[b1:b2])]
        if n:
            blocks.append((starts_a[ci], starts_b[cj], starts_a[ci + n] - starts_a[ci]))
        i, j = ci + n, cj + n
    return a, b, _as_opcodes(blocks, len(a), len(b))


def similar(queries: Sequence[Sequence[Hashable]], choices: Sequence[Sequence[Hashable]],
            cutoff: float, *, letters: bool = False) -> list[tuple[int, int, float]]:
    """(query index, choice index, similarity) of the pairs at least `cutoff` alike,
    every pair compared in C. Similarity is 2 * LCS / total length (Indel); with
    `letters`, 1 - edits / longer length (Levenshtein), which, unlike a common
    subsequence, does not find half of any two sentences of one language alike."""
    scorer = Levenshtein.normalized_similarity if letters else Indel.normalized_similarity
    found: list[tuple[int, int, float]] = []
    for q, query in enumerate(queries):
        if query:
            hits = process.extract(query, choices, scorer=scorer, score_cutoff=cutoff,
                                   limit=None)
            found += [(q, c, score) for _, score, c in hits]
    return found


def _tokens(text: str) -> tuple[list[str], list[str], list[int]]:
    """(tokens, chunks, where each chunk starts in tokens, plus the end)."""
    tokens: list[str] = []
    chunks: list[str] = []
    starts: list[int] = []
    for m in _CHUNK.finditer(text):
        starts.append(len(tokens))
        chunks.append(m[0])
        if m[1] is None:
            tokens.append(m[0])
        else:
            tokens.append(m[1])
            if m[2]:
                tokens.append(m[2])
    starts.append(len(tokens))
    return tokens, chunks, starts


def _slid(blocks: list[Block], a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Block]:
    """Shared runs moved to join the next one where the items allow: among longest
    common subsequences, one of long runs. With repeated paragraphs the LCS may
    match the first of two equal ones where the second continues a run (A x A B ->
    A' x' A B matched A-A, B-B: two removed, two added; slid, A B are matched
    together and A x -> A' x' is edited in place), as difflib, which takes the
    longest run first, does. Not for words: a space slid away from a replaced run
    would leave it paired with a space."""
    out: list[Block] = []
    for k, (i, j, n) in enumerate(blocks):
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            i, j, n = out[-1][0], out[-1][1], out.pop()[2] + n  # joined by a slide
        if k + 1 < len(blocks):
            i2, j2, _ = blocks[k + 1]
            if j + n == j2 and i + n < i2 and a[i:i + n] == a[i2 - n:i2]:
                i = i2 - n  # what lies between on a's side is removed before the run
            elif i + n == i2 and j + n < j2 and b[j:j + n] == b[j2 - n:j2]:
                j = j2 - n
        out.append((i, j, n))
    return out


def _as_opcodes(blocks: list[Block], len_a: int, len_b: int) -> list[Opcode]:
    """Opcodes from matching blocks, as difflib makes them: adjacent blocks joined,
    and a gap with both sides non-empty is one replace."""
    joined: list[Block] = []
    for i, j, n in blocks:
        if joined and joined[-1][0] + joined[-1][2] == i and joined[-1][1] + joined[-1][2] == j:
            joined[-1] = (joined[-1][0], joined[-1][1], joined[-1][2] + n)
        else:
            joined.append((i, j, n))
    ops: list[Opcode] = []
    i = j = 0
    for ai, bj, n in [*joined, (len_a, len_b, 0)]:
        if i < ai and j < bj:
            ops.append(("replace", i, ai, j, bj))
        elif i < ai:
            ops.append(("delete", i, ai, j, bj))
        elif j < bj:
            ops.append(("insert", i, ai, j, bj))
        i, j = ai + n, bj + n
        if n:
            ops.append(("equal", ai, i, bj, j))
    return ops
