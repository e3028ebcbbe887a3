"""The diff's worst cases, timed: the work must stay bounded whatever a page holds.

    python -m bench.diff_bench       (also the first step of `python -m bench`)

- one paragraph of 20,000 words with four one-word edits spread over it (the first
  near the start and the last near the end, so no common prefix or suffix saves the
  work): SequenceMatcher(autojunk=False) took 143 s on it;
- a document of 500 paragraphs, every one edited: 250,000 pairs of paragraphs to
  weigh for the pairing of edited paragraphs. Short paragraphs (25 to 30 words), so
  that every pair is also compared letter by letter: the costlier case.

Each is diffed three times; the median is reported, and must be under one second.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable

from bench.report import Verdict
from monitor.diff import Change, diff_documents
from monitor.document import Document

LIMIT_SECONDS = 1.0
RUNS = 3


def _words(rng: random.Random, count: int) -> list[str]:
    # Words of a press release's length and variety: pairs of letters from a small
    # alphabet make words that repeat, as real ones do.
    syllables = ["ka", "za", "qa", "st", "an", "ar", "ly", "mi", "ni", "st", "er", "ov"]
    vocabulary = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
                  for _ in range(4000)]
    return [rng.choice(vocabulary) for _ in range(count)]


def long_paragraph() -> tuple[Document, Document]:
    rng = random.Random(20_000)
    words = _words(rng, 20_000)
    edited = list(words)
    for at in (5, 7_000, 13_000, 19_995):
        edited[at] = "edited"
    return (Document("T", None, (" ".join(words) + ".",)),
            Document("T", None, (" ".join(edited) + ".",)))


def many_paragraphs() -> tuple[Document, Document]:
    rng = random.Random(500)
    paragraphs = [" ".join(_words(rng, rng.randint(25, 30))) + "." for _ in range(500)]
    edited = [p.replace(" ", " also ", 1) for p in paragraphs]
    return Document("T", None, tuple(paragraphs)), Document("T", None, tuple(edited))


CASES: tuple[tuple[str, Callable[[], tuple[Document, Document]], int], ...] = (
    ("diff of one 20,000-word paragraph with 4 edits", long_paragraph, 1),
    ("diff of 500 edited paragraphs", many_paragraphs, 500),
)


def _timed(old: Document, new: Document) -> tuple[float, Change]:
    started = time.perf_counter()
    change = diff_documents(old, new)
    return time.perf_counter() - started, change


def run(log: Callable[[str], None] = print) -> list[Verdict]:
    """Time each case; one line each, and a verdict per case."""
    verdicts: list[Verdict] = []
    for name, build, hunks in CASES:
        old, new = build()
        timings, change = zip(*(_timed(old, new) for _ in range(RUNS)), strict=True)
        seconds = statistics.median(timings)
        found = len(change[0].hunks)
        right = found == hunks and all(h.kind == "wording" for h in change[0].hunks)
        log(f"bench: {name}: {seconds:.3f} s (median of {RUNS}), {found} edited "
            f"paragraph{'s' * (found != 1)}" + ("" if right else f", expected {hunks}"))
        verdicts.append(Verdict(f"{name} < {LIMIT_SECONDS:.0f} s", f"{seconds:.3f} s",
                                seconds < LIMIT_SECONDS and right))
    return verdicts


def main() -> int:
    verdicts = run()
    print("targets:")
    for v in verdicts:
        print(f"  {'PASS' if v.passed else 'MISS'}  {v.target}: {v.measured}")
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
