"""The bench's real-page corpus harness, run on a tiny corpus written from the page
shapes of tests/article_shapes.py (our own pages, so they may live in the repo)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from article_shapes import SHAPES, render, truth
from conftest import REPO

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench.corpus import CorpusPage, edited_markup, load_corpus, run_corpus
from bench.measure import Run


def _corpus(directory: Path) -> Path:
    for shape in SHAPES:
        folder = directory / shape.name
        folder.mkdir(parents=True)
        (folder / "page.html").write_text(render(shape, wrap=80), encoding="utf-8")
        (folder / "truth.txt").write_text("\n\n".join(truth(shape)) + "\n", encoding="utf-8")
    (directory / "no-truth").mkdir()  # a folder without truth.txt is not a page
    (directory / "no-truth" / "page.html").write_text("<p>x</p>", encoding="utf-8")
    return directory


@pytest.mark.slow
def test_the_harness_scores_every_shape_at_one(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_corpus(_corpus(tmp_path / "corpus"), tmp_path / "work", log=lines.append)
    assert result is not None, lines
    assert result.pages == len(SHAPES)
    assert result.edited == set(range(1, len(SHAPES) + 1))
    assert (result.text_recall, result.recall, result.precision) == (1.0, 1.0, 1.0), lines
    assert result.failed == 0
    assert lines[0].startswith(f"corpus: {len(SHAPES)} pages, text recall 1.00")


def test_a_missing_corpus_is_one_line_and_no_result(tmp_path: Path) -> None:
    lines: list[str] = []
    assert run_corpus(tmp_path / "absent", tmp_path / "work", log=lines.append) is None
    [line] = lines
    assert "no real-page corpus" in line and str(tmp_path / "absent") in line
    assert "MONITOR_CORPUS_DIR" in line


def test_a_page_is_edited_in_its_last_truth_paragraph_once(tmp_path: Path) -> None:
    [page] = load_corpus(_corpus(tmp_path / "c").parent / "c")[:1]
    edited = edited_markup(page)
    assert edited is not None and edited != page.markup
    assert edited.count("xylograph") == 1
    last = page.truth[-1]
    assert _key(last) not in _key(edited) and _key(last) in _key(page.markup)


def test_an_edit_is_made_only_where_a_reader_sees_it_once() -> None:
    twice = CorpusPage("p", "<p>Budget approved</p><div>Budget approved</div>",
                       ("Budget approved",))
    assert edited_markup(twice) is None  # which one is the article's? not edited
    hidden = CorpusPage("p", '<html><head><title>Budget approved</title></head><body>'
                        '<img alt="Budget approved"><p>Budget&#32;approved</p></body></html>',
                        ("Budget approved",))
    assert edited_markup(hidden) is None  # the title and alt text are not shown
    short = CorpusPage("p", "<p>Tax is 5 %</p>", ("Tax is 5 %",))
    assert edited_markup(short) is None  # no word of five letters
    pieces = CorpusPage("p", "<p>First budget line.</p><p>Second budget line.</p>",
                        ("Second budget", "First budget"))
    assert edited_markup(pieces) == "<p>First budget line.</p><p>xylograph budget line.</p>"
    wrapped = CorpusPage("p", "<p>The budget\n   was approved</p>", ("The budget was approved",))
    assert edited_markup(wrapped) == "<p>The xylograph\n   was approved</p>"


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness's `monitor` commands run in this process (cli_helpers.monitor), and
    learning loads a page twice 50 ms apart, not 3 s (the site's clock is to the
    millisecond): a fresh interpreter for each of its nine commands cost most of the
    test. test_the_harness_scores_every_shape_at_one keeps the real processes."""
    from cli_helpers import monitor

    import bench.monitor_run
    from monitor.sources import html

    def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
        assert env is None and Path(argv[0]).name == "monitor", argv
        started = time.perf_counter()
        done = monitor(*argv[1:], cwd=cwd)
        return Run(tuple(argv), done.code, time.perf_counter() - started, 0.0, 0,
                   done.out, done.err)

    monkeypatch.setattr(bench.monitor_run, "run", run)
    monkeypatch.setattr(html, "DEFAULT_LEARN_DELAY", 0.05)


@pytest.mark.usefixtures("in_process")
def test_segments_are_scored_and_boilerplate_edits_only_reported(tmp_path: Path) -> None:
    """The truth.json layout: "with" pieces are scored like paragraphs (a piece may be
    part of one); an edit in a "without" piece is counted apart, never an error."""
    [shape] = [s for s in SHAPES if s.name == "contact"]
    markup = render(shape)
    folder = tmp_path / "corpus" / "segments"
    folder.mkdir(parents=True)
    (folder / "page.html").write_text(markup, encoding="utf-8")
    truth = {"with": ["holds a reception of citizens", "no appointment is needed"],
             "without": ["City news. All rights reserved."]}
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    [page] = load_corpus(tmp_path / "corpus")
    assert page.truth == tuple(truth["with"]) and page.without == tuple(truth["without"])
    lines: list[str] = []
    result = run_corpus(tmp_path / "corpus", tmp_path / "work", log=lines.append)
    assert result is not None, lines
    assert (result.paragraphs, result.text_recall) == (2, 1.0), lines
    assert result.exact == result.edited == {1}, lines
    assert (result.recall, result.precision) == (1.0, 1.0), lines
    assert result.without == 1 and result.without_found == 0, lines
    assert result.boilerplate_edited == {1} and not result.boilerplate_reported, lines
    assert lines[1].startswith("corpus, not the article (reported, no goal): 0/1"), lines


def test_a_sample_is_fixed_by_its_seed(tmp_path: Path) -> None:
    directory = _corpus(tmp_path / "c")
    every = [p.name for p in load_corpus(directory)]
    drawn = [p.name for p in load_corpus(directory, sample=2, seed=5)]
    assert drawn == [p.name for p in load_corpus(directory, sample=2, seed=5)]
    assert len(drawn) == 2 and drawn == [n for n in every if n in drawn]


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())
