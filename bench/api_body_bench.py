"""What reading gov.kz API bodies with BeautifulSoup costs, next to lxml, in one run.

    python -m bench.api_body_bench   (also a step of `python -m bench`; about 4 s of CPU)

A gov.kz item's text is the API's `body` (or `content`) HTML string, read with
BeautifulSoup on html.parser (monitor/sources/api_body.py) for its tolerance; pages
are read with lxml (monitor/sources/blocks.py). Both read the same bodies here, built
as the replica serves them (the shipped baseline's paragraphs as CMS HTML: entities,
&nbsp;, an image with a caption): the baseline article itself, a long release of four
times its text, a long document of twenty times, and the article wrapped as a whole
<html> document. CPU time of this process (time.process_time), per body: each round
reads each body with both parsers in turn, enough times to take 0.1 s of CPU; the median of
the rounds is reported, and the ratio bs4 / lxml.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor.replica.baseline import baseline_body, seed_paragraphs
from monitor.sources.api_body import body_paragraphs
from monitor.sources.blocks import fragment_paragraphs

ROUNDS = 5
ROUND_SECONDS = 0.1
HEADER = ["API body", "KB", "lxml ms", "bs4 ms", "bs4 / lxml", "same paragraphs"]
NOTE = ("CPU per API body, read with BeautifulSoup (html.parser) as gov.kz items are and "
        "with lxml as pages are, in this process; median of "
        f"{ROUNDS} rounds. A check of a gov.kz item reads its body once, beside one or two "
        "JSON API round trips; whole pages stay on lxml.")


@dataclass(frozen=True)
class BodyCost:
    name: str
    size: int  # bytes, UTF-8
    lxml_ms: float
    bs4_ms: float
    same: bool

    @property
    def ratio(self) -> float:
        return self.bs4_ms / self.lxml_ms

    def row(self) -> list[str]:
        return [self.name, f"{self.size / 1024:.1f}", f"{self.lxml_ms:.3f}",
                f"{self.bs4_ms:.3f}", f"{self.ratio:.1f}x", "yes" if self.same else "no"]


def bodies() -> list[tuple[str, str]]:
    paragraphs = seed_paragraphs()
    article = baseline_body(paragraphs)
    return [
        ("baseline article", article),
        ("long release (4x)", baseline_body(paragraphs * 4)),
        ("long document (20x)", baseline_body(paragraphs * 20)),
        ("article as a whole HTML document",
         f"<!DOCTYPE html><html><head><title>t</title></head><body>{article}</body></html>"),
    ]


def _per_call_ms(read: Callable[[str], list[str]], body: str) -> float:
    calls, started = 0, time.process_time()
    while (spent := time.process_time() - started) < ROUND_SECONDS:
        read(body)
        calls += 1
    return spent * 1000 / calls


def measure(name: str, body: str) -> BodyCost:
    lxml_ms: list[float] = []
    bs4_ms: list[float] = []
    for _ in range(ROUNDS):  # in turn, so that a busy moment slows both alike
        lxml_ms.append(_per_call_ms(fragment_paragraphs, body))
        bs4_ms.append(_per_call_ms(body_paragraphs, body))
    return BodyCost(name, len(body.encode("utf-8")), statistics.median(lxml_ms),
                    statistics.median(bs4_ms), body_paragraphs(body) == fragment_paragraphs(body))


def run(log: Callable[[str], None] = print) -> list[BodyCost]:
    costs = []
    for name, body in bodies():
        cost = measure(name, body)
        log(f"bench: API body, {name} ({cost.size / 1024:.1f} KB): lxml {cost.lxml_ms:.3f} ms, "
            f"bs4 {cost.bs4_ms:.3f} ms CPU, {cost.ratio:.1f}x"
            + ("" if cost.same else "; the paragraphs differ"))
        costs.append(cost)
    return costs


def main() -> int:
    costs = run()
    width = [max(len(r[i]) for r in [HEADER, *(c.row() for c in costs)]) for i in range(6)]
    for r in [HEADER, *(c.row() for c in costs)]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, width, strict=True)))
    return 0 if all(c.same for c in costs) else 1


if __name__ == "__main__":
    sys.exit(main())
