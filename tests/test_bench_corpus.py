"""The bench's real-page corpus harness, run on a tiny corpus written from the page
shapes of tests/article_shapes.py (our own pages, so they may live in the repo)."""

from __future__ import annotations

import sys
from pathlib import Path

from article_shapes import SHAPES, render, truth
from conftest import REPO

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench.corpus import CorpusPage, edited_markup, load_corpus, run_corpus


def _corpus(directory: Path) -> Path:
    for shape in SHAPES:
        folder = directory / shape.name
        folder.mkdir(parents=True)
        (folder / "page.html").write_text(render(shape, wrap=80), encoding="utf-8")
        (folder / "truth.txt").write_text("\n\n".join(truth(shape)) + "\n", encoding="utf-8")
    (directory / "no-truth").mkdir()  # a folder without truth.txt is not a page
    (directory / "no-truth" / "page.html").write_text("<p>x</p>", encoding="utf-8")
    return directory


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
    unique = CorpusPage("p", "<p>repeat repeat</p>", ("repeat repeat",))
    assert edited_markup(unique) is None  # no word occurs once: nothing to edit safely
