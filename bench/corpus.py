"""Real pages with known article text: is every paragraph read, is every edit seen, and
does the noise around the article stay quiet?

The corpus is a directory, `MONITOR_CORPUS_DIR` or `../shared/corpus/` beside the
repository, holding one folder per page:

    <corpus>/<page>/page.html   the page as saved (UTF-8)
    <corpus>/<page>/truth.txt   the article's text, one paragraph a line (blank lines
                                are ignored); a table row is its cells, space-joined
or  <corpus>/<page>/truth.json  {"with": [...], "without": [...]}: pieces of text that
                                belong to the article and pieces that do not (the
                                layout bench/corpus_import.py writes from trafilatura's
                                evaluation data)

A truth paragraph and a "with" piece are scored alike: it is found when its letters
and digits occur, in order, in the captured text (so a piece may be part of a
paragraph, and list marks and table bars do not count).

The pages are served from 127.0.0.1 by an ArticleSite, which puts a clock, a rotating
banner, a shuffled "most read" list and a CSRF token around each page on every load.
monitor watches them through its command line (bench/monitor_run.py): a first pass
that learns and records, two unchanged passes, then one word inside one truth piece
of each page is replaced in the HTML source (bench/corpus_edit.py: the last piece in
the source that occurs there once, visibly), and a change pass. Pages with "without"
pieces then get a second edit, in one of those, and one more pass.

Figures: text recall (truth pieces found in the captured text), edit recall (edited
pages reported changed), edit precision (reports that were exactly the edit — the
edited paragraph and nothing else — over every report after the first pass), all with goal
1.00; and, reported only, the "without" pieces found in the captured text and the
boilerplate edits that alerted (not errors for a watchdog).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus_edit import NEW_WORD, Edit, edit_in
from bench.monitor_run import MonitorWatcher
from bench.tools import PassResult
from monitor.diff import Hunk
from monitor.replica.article_site import ArticleSite

REPO = Path(__file__).resolve().parents[1]
CORPUS_ENV = "MONITOR_CORPUS_DIR"
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
UNCHANGED_PASSES = 2
RETRIES = 2  # passes after the first, for pages whose first check failed
# `python -m bench` scores a fixed sample: the 990 pages of trafilatura's data take
# over 15 minutes on 2 busy cores, 300 about 6.
CORPUS_SAMPLE = 300
CORPUS_SEED = 1


@dataclass(frozen=True)
class CorpusPage:
    name: str
    markup: str
    truth: tuple[str, ...]  # paragraphs or pieces of the article
    without: tuple[str, ...] = ()  # pieces of the page that are not the article


@dataclass
class CorpusResult:
    pages: int
    paragraphs: int = 0
    paragraphs_found: int = 0
    edited: set[int] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)  # pages reported in the change pass
    exact: set[int] = field(default_factory=set)  # reports that were exactly the edit
    false_alarms: int = 0  # reports in the unchanged passes
    failed: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # page -> pieces
    failures: dict[str, str] = field(default_factory=dict)  # page -> the last failure
    inexact: dict[str, list[str]] = field(default_factory=dict)  # page -> hunks reported
    names: dict[int, str] = field(default_factory=dict)
    # Reported only: pieces that are not the article, found in the text, and edits there.
    without: int = 0
    without_found: int = 0
    boilerplate_edited: set[int] = field(default_factory=set)
    boilerplate_reported: set[int] = field(default_factory=set)

    @property
    def text_recall(self) -> float:
        return self.paragraphs_found / self.paragraphs if self.paragraphs else 1.0

    @property
    def recall(self) -> float:
        return len(self.edited & self.reported) / len(self.edited) if self.edited else 1.0

    @property
    def alarms(self) -> int:
        """Reports that were not exactly an edit: in the unchanged passes, on pages not
        edited, or on edited pages with more (or other) hunks than the edit."""
        return self.false_alarms + len(self.reported - self.exact)

    @property
    def precision(self) -> float:
        exact = len(self.exact)
        return exact / (exact + self.alarms) if exact + self.alarms else 1.0

    def line(self) -> str:
        return (f"corpus: {self.pages} pages, text recall {self.text_recall:.2f} "
                f"({self.paragraphs_found}/{self.paragraphs} pieces), edits: recall "
                f"{self.recall:.2f} ({len(self.edited & self.reported)}/{len(self.edited)}), "
                f"precision {self.precision:.2f} ({len(self.exact)} exact; "
                f"{self.false_alarms} false alarms unchanged, "
                f"{len(self.reported - self.edited)} on pages not edited, "
                f"{len(self.reported & self.edited - self.exact)} more than the edit), "
                f"{self.failed} failed checks (goal 1.00 / 1.00 / 1.00)")

    def boilerplate_line(self) -> str:
        return (f"corpus, not the article (reported, no goal): {self.without_found}/"
                f"{self.without} pieces in the captured text; edits there alerted on "
                f"{len(self.boilerplate_reported & self.boilerplate_edited)}/"
                f"{len(self.boilerplate_edited)} pages")


def corpus_dir() -> Path:
    given = os.environ.get(CORPUS_ENV)
    return Path(given) if given else DEFAULT_CORPUS


def load_corpus(directory: Path, *, sample: int | None = None,
                seed: int = 0) -> list[CorpusPage]:
    """Every `<page>/page.html` with its `truth.json` or `truth.txt`, in name order;
    with `sample`, that many of them drawn with `seed` (still in name order)."""
    pages = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        page = _load_page(folder)
        if page is not None:
            pages.append(page)
    if sample is not None and sample < len(pages):
        chosen = set(random.Random(seed).sample(range(len(pages)), sample))
        pages = [page for i, page in enumerate(pages) if i in chosen]
    return pages


def _load_page(folder: Path) -> CorpusPage | None:
    html, text, data = folder / "page.html", folder / "truth.txt", folder / "truth.json"
    if not html.is_file():
        return None
    markup = html.read_text("utf-8", "replace")
    if data.is_file():
        truth = json.loads(data.read_text("utf-8"))
        return CorpusPage(folder.name, markup, _pieces(truth.get("with")),
                          _pieces(truth.get("without")))
    if text.is_file():
        return CorpusPage(folder.name, markup, _pieces(text.read_text("utf-8").splitlines()))
    return None


def _pieces(given: object) -> tuple[str, ...]:
    items = given if isinstance(given, list) else []
    return tuple(s.strip() for s in items if isinstance(s, str) and s.strip())


def edited_markup(page: CorpusPage) -> str | None:
    """The page with one word inside one of its truth pieces replaced in the source
    (bench/corpus_edit.py), or None when no piece can be edited."""
    edit = edit_in(page.markup, page.truth)
    return None if edit is None else edit.markup


def run_corpus(directory: Path, workdir: Path, *, sample: int | None = None, seed: int = 0,
               log: Callable[[str], None] = print) -> CorpusResult | None:
    """Score monitor on the corpus; None (and one line said) when there is none."""
    pages = load_corpus(directory, sample=sample, seed=seed) if directory.is_dir() else []
    if not pages:
        log(f"corpus: no real-page corpus at {directory} (put one folder per page there, "
            f"page.html + truth.txt or truth.json, or set {CORPUS_ENV}); skipped")
        return None
    result = CorpusResult(len(pages), names={n: p.name for n, p in enumerate(pages, 1)})
    watcher = MonitorWatcher(workdir, concurrency=8)
    with ArticleSite(seed=11) as site:
        for n, page in enumerate(pages, start=1):
            site.set_page(n, page.markup)
        watcher.prepare([site.page_url(n) for n in range(1, len(pages) + 1)])
        first = watcher.first_pass()
        _failures(result, first, log)
        for _ in range(RETRIES):  # a check that failed (a busy store) has no text yet
            if not first.failures:
                break
            first = watcher.check_pass()
            result.false_alarms += len(first.reported)
            result.failed, result.failures = 0, {}  # the first pass's failures, if any left
            _failures(result, first, log)
        _score_text(watcher, pages, result)
        for _ in range(UNCHANGED_PASSES):
            done = watcher.check_pass()
            result.false_alarms += len(done.reported)
            _failures(result, done, log)
        edits: dict[int, Edit] = {}
        for n, page in enumerate(pages, start=1):
            edit = edit_in(page.markup, page.truth)
            if edit is not None:
                site.set_page(n, edit.markup)
                edits[n] = edit
        result.edited = set(edits)
        done = watcher.check_pass()
        result.reported = set(done.reported)
        _failures(result, done, log)
        _score_reports(watcher.change_hunks(), edits, result)
        for n, page in enumerate(pages, start=1):
            base = edits[n].markup if n in edits else page.markup
            outside = edit_in(base, page.without)
            if outside is not None:
                site.set_page(n, outside.markup)
                result.boilerplate_edited.add(n)
        if result.boilerplate_edited:
            done = watcher.check_pass()
            result.boilerplate_reported = set(done.reported)
            _failures(result, done, log)
    _log_result(result, log)
    return result


def _failures(result: CorpusResult, done: PassResult, log: Callable[[str], None]) -> None:
    result.failed += done.failed
    result.failures.update((result.names[n], detail) for n, detail in done.failures.items())
    if any("exited with code" in detail for detail in done.failures.values()):
        log("corpus: a check process died; its error output ends:\n" + done.run.stderr[-3000:])


def _score_text(watcher: MonitorWatcher, pages: list[CorpusPage], result: CorpusResult) -> None:
    for n, page in enumerate(pages, start=1):
        captured = _key(watcher.current_text(n))
        missing = [p for p in page.truth if _key(p) not in captured]
        result.paragraphs += len(page.truth)
        result.paragraphs_found += len(page.truth) - len(missing)
        if missing:
            result.missing[page.name] = missing
        result.without += len(page.without)
        result.without_found += sum(_key(p) in captured for p in page.without)


def _score_reports(changes: dict[int, list[list[Hunk]]], edits: dict[int, Edit],
                   result: CorpusResult) -> None:
    """Which reports of the change pass were exactly the edit: its hunks hold one new
    text, with the new word, and at most one old text, that paragraph before the edit
    (a paragraph of one word, replaced whole, is a removal and an addition)."""
    for n in result.reported:
        hunks = changes.get(n, [[]])[-1]
        if n in edits and _is_the_edit(hunks, edits[n]):
            result.exact.add(n)
        else:
            result.inexact[result.names[n]] = [
                f"{h.kind}: {h.old[:50]!r} -> {h.new[:50]!r}" for h in hunks]


def _is_the_edit(hunks: list[Hunk], edit: Edit) -> bool:
    news = [h.new for h in hunks if h.new]
    olds = [h.old for h in hunks if h.old]
    if len(news) != 1 or len(olds) > 1 or NEW_WORD not in news[0]:
        return False
    return all(old == news[0].replace(NEW_WORD, edit.word) for old in olds)


def _log_result(result: CorpusResult, log: Callable[[str], None]) -> None:
    log(result.line())
    if result.without or result.boilerplate_edited:
        log(result.boilerplate_line())
    for name, missing in sorted(result.missing.items()):
        log(f"  {name}: missing {len(missing)}: " + " / ".join(m[:60] for m in missing[:3]))
    for name, detail in sorted(result.failures.items()):
        log(f"  {name}: check failed: {detail[:160]}")
    missed = sorted(result.names[n] for n in result.edited - result.reported)
    if missed:
        log(f"  edits not reported ({len(missed)}): " + ", ".join(missed))
    for name, hunks in sorted(result.inexact.items()):
        log(f"  {name}: reported {len(hunks)} hunks: " + " / ".join(hunks[:3]))


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=(
        "Score monitor on the real-page corpus, or make one from trafilatura's "
        "evaluation data (import-trafilatura)."))
    parser.add_argument("--sample", type=int, help="score this many pages, drawn with --seed")
    parser.add_argument("--seed", type=int, default=CORPUS_SEED)
    parser.add_argument("--dir", type=Path, help=f"the corpus (default: ${CORPUS_ENV} or "
                        f"{DEFAULT_CORPUS})")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import-trafilatura", help="write a corpus from a clone of "
                         "github.com/adbar/trafilatura (its data is not shipped here)")
    imp.add_argument("gitdir", type=Path, help="the clone's git directory (bare is fine)")
    imp.add_argument("out", type=Path, help="where to write the corpus (outside the repo)")
    imp.add_argument("--rev", default="HEAD")
    args = parser.parse_args(argv)
    if args.command == "import-trafilatura":
        from bench.corpus_import import import_trafilatura

        try:
            counts = import_trafilatura(args.gitdir, args.out, args.rev)
        except (ValueError, OSError) as exc:
            print(f"import-trafilatura: {exc}", file=sys.stderr)
            return 1
        print(counts.line(args.out))
        return 0
    found = run_corpus(args.dir or corpus_dir(), REPO / "bench" / ".work" / "corpus",
                       sample=args.sample, seed=args.seed)
    return 0 if found is not None else 1


if __name__ == "__main__":
    sys.exit(main())
