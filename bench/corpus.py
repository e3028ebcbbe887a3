"""Real pages with known article text: is every paragraph read, is every edit seen, and
does the noise around the article stay quiet?

The corpus is a directory, `MONITOR_CORPUS_DIR` or `../shared/corpus/` beside the
repository, holding one folder per page:

    <corpus>/<page>/page.html   the page as saved (UTF-8)
    <corpus>/<page>/truth.txt   the article's text, one paragraph a line (blank lines
                                are ignored); a table row is its cells, space-joined

The pages are served from 127.0.0.1 by an ArticleSite, which puts a clock, a rotating
banner, a shuffled "most read" list and a CSRF token around each page on every load.
monitor watches them through its command line (bench/monitor_run.py): a first pass
that learns and records, two unchanged passes, then one word of each page's last
truth paragraph (the tail, where extraction lost edits) is replaced in the HTML
source, and one change pass.

Figures: text recall (truth paragraphs found in the captured text, letters and digits
compared, so list marks and table bars do not count), detection recall (edited pages
reported changed) and precision (reports that were edits, over every pass after the
first). Goal: 1.00 for each.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.monitor_run import MonitorWatcher
from monitor.replica.article_site import ArticleSite

REPO = Path(__file__).resolve().parents[1]
CORPUS_ENV = "MONITOR_CORPUS_DIR"
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
UNCHANGED_PASSES = 2
NEW_WORD = "xylograph"  # in no page: the edit is always a real one
_WORD = re.compile(r"[^\W\d_]{5,}")


@dataclass(frozen=True)
class CorpusPage:
    name: str
    markup: str
    truth: tuple[str, ...]


@dataclass
class CorpusResult:
    pages: int
    paragraphs: int = 0
    paragraphs_found: int = 0
    edited: set[int] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)  # pages reported in the change pass
    false_alarms: int = 0  # reports in the unchanged passes
    failed: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # page -> paragraphs

    @property
    def text_recall(self) -> float:
        return self.paragraphs_found / self.paragraphs if self.paragraphs else 1.0

    @property
    def recall(self) -> float:
        return len(self.edited & self.reported) / len(self.edited) if self.edited else 1.0

    @property
    def precision(self) -> float:
        true = len(self.edited & self.reported)
        alarms = len(self.reported - self.edited) + self.false_alarms
        return true / (true + alarms) if true + alarms else 1.0

    def line(self) -> str:
        return (f"corpus: {self.pages} pages, text recall {self.text_recall:.2f} "
                f"({self.paragraphs_found}/{self.paragraphs} paragraphs), edits: recall "
                f"{self.recall:.2f} ({len(self.edited & self.reported)}/{len(self.edited)}), "
                f"precision {self.precision:.2f} ({self.false_alarms} false alarms unchanged, "
                f"{len(self.reported - self.edited)} in the change pass), "
                f"{self.failed} failed checks (goal 1.00 / 1.00 / 1.00)")


def corpus_dir() -> Path:
    given = os.environ.get(CORPUS_ENV)
    return Path(given) if given else DEFAULT_CORPUS


def load_corpus(directory: Path) -> list[CorpusPage]:
    """Every `<page>/page.html` with its `truth.txt`, in name order."""
    pages = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        html, truth = folder / "page.html", folder / "truth.txt"
        if not (html.is_file() and truth.is_file()):
            continue
        lines = truth.read_text("utf-8").splitlines()
        pages.append(CorpusPage(folder.name, html.read_text("utf-8", "replace"),
                                tuple(line.strip() for line in lines if line.strip())))
    return pages


def edited_markup(page: CorpusPage) -> str | None:
    """The page with one word of its last truth paragraph replaced in the source, or
    None when no word of it (five letters or more) occurs exactly once in the source."""
    for paragraph in reversed(page.truth):
        for word in _WORD.findall(paragraph):
            spots = list(re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", page.markup))
            if len(spots) == 1:
                at = spots[0]
                return page.markup[:at.start()] + NEW_WORD + page.markup[at.end():]
    return None


def run_corpus(directory: Path, workdir: Path, *,
               log: Callable[[str], None] = print) -> CorpusResult | None:
    """Score monitor on the corpus; None (and one line said) when there is none."""
    pages = load_corpus(directory) if directory.is_dir() else []
    if not pages:
        log(f"corpus: no real-page corpus at {directory} (put one folder per page there, "
            f"page.html + truth.txt, or set {CORPUS_ENV}); skipped")
        return None
    result = CorpusResult(len(pages))
    watcher = MonitorWatcher(workdir, concurrency=8)
    with ArticleSite(seed=11) as site:
        for n, page in enumerate(pages, start=1):
            site.set_page(n, page.markup)
        watcher.prepare([site.page_url(n) for n in range(1, len(pages) + 1)])
        first = watcher.first_pass()
        result.failed += first.failed
        _score_text(watcher, pages, result)
        for _ in range(UNCHANGED_PASSES):
            done = watcher.check_pass()
            result.false_alarms += len(done.reported)
            result.failed += done.failed
        for n, page in enumerate(pages, start=1):
            markup = edited_markup(page)
            if markup is not None:
                site.set_page(n, markup)
                result.edited.add(n)
        done = watcher.check_pass()
        result.reported = set(done.reported)
        result.failed += done.failed
    log(result.line())
    for name, missing in sorted(result.missing.items()):
        log(f"  {name}: missing {len(missing)}: " + " / ".join(m[:60] for m in missing[:3]))
    return result


def _score_text(watcher: MonitorWatcher, pages: list[CorpusPage], result: CorpusResult) -> None:
    for n, page in enumerate(pages, start=1):
        captured = _key(watcher.current_text(n))
        missing = [p for p in page.truth if _key(p) not in captured]
        result.paragraphs += len(page.truth)
        result.paragraphs_found += len(page.truth) - len(missing)
        if missing:
            result.missing[page.name] = missing


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


if __name__ == "__main__":
    run_corpus(corpus_dir(), REPO / "bench" / ".work" / "corpus")
