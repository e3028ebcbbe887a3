"""Nothing of the article is dropped, and re-wrapping its source is no change.

Pages in the shapes where extraction lost text (tests/article_shapes.py), served with
noise around the article from 127.0.0.1 and read through the real check path: learn,
capture, compare, record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from article_shapes import (
    CONTACT,
    LEAD,
    LEAD_BESIDE,
    LEAD_UNDER_H3,
    LONG_LIST,
    PRODUCTS,
    SHAPES,
    WRAPPED,
    Shape,
    render,
    truth,
)

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.diff import Change
from monitor.replica.article_site import ArticleSite
from monitor.sources.blocks import element_paragraphs, parse_html
from monitor.sources.dropped import fold_whitespace, restored
from monitor.store.queries import version_text


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with ArticleSite(seed=7) as running:
        yield running


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _watch(store, checker, site: ArticleSite, shape: Shape, *,  # type: ignore[no-untyped-def]
           wrap: int | None = None) -> str:
    url = site.set_page(1, render(shape, wrap=wrap))
    register(store, SourceConfig(name=shape.name, url=url, kind="html", interval_seconds=60))
    assert checker.check(shape.name).outcome == "captured"
    return shape.name


def _changes(store, name: str) -> list[Change]:  # type: ignore[no-untyped-def]
    return [Change.from_dict(e.data["change"]) for e in store.read_stream(name)
            if e.type == "ChangeDetected"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
@pytest.mark.parametrize("wrap", [None, 80], ids=["one-line", "wrapped-80"])
def test_every_paragraph_of_the_article_is_in_the_captured_text(
        store, checker, site: ArticleSite, shape: Shape, wrap: int | None) -> None:
    name = _watch(store, checker, site, shape, wrap=wrap)
    _, text = version_text(store.engine, name)
    captured = {_key(line) for line in text.splitlines()}
    missing = [p for p in truth(shape)[1:] if _key(p) not in captured]
    assert missing == []
    # The noise around the article stayed out.
    assert "Server time" not in text and "Most read" not in text and "Archive" not in text


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_rewrapping_the_source_lines_is_no_change(
        store, checker, site: ArticleSite, shape: Shape) -> None:
    name = _watch(store, checker, site, shape)
    for wrap in (80, 40, None, 80):
        site.set_page(1, render(shape, wrap=wrap))
        assert checker.check(name).outcome == "unchanged", wrap
    assert _changes(store, name) == []


@pytest.mark.parametrize(("shape", "block", "item", "old", "new", "kind", "significance"), [
    # The tail of a long list article: its last item.
    (LONG_LIST, 1, 14, "6 working days", "16 working days", "number", "high"),
    (LONG_LIST, 2, 0, "public service centre", "citizens' service centre", "wording",
     "medium"),
    # A product list whose every item is a link, and a table in the article.
    (PRODUCTS, 1, 4, "52 990", "49 990", "number", "high"),
    (PRODUCTS, 1, 4, "oven", "grill", "wording", "medium"),
    (PRODUCTS, 2, 2, "141 200", "143 200", "number", "high"),
    # The closing contact block, classed as the article's footer.
    (CONTACT, 2, 1, "55 12 34", "55 12 35", "number", "high"),
    (CONTACT, 2, 0, "office 305", "office 307", "number", "high"),
    # Hard-wrapped paragraphs: a <li>, a <td>, a <blockquote>.
    (WRAPPED, 1, 1, "at the same time", "within a day", "wording", "medium"),
    (WRAPPED, 2, 1, "4 of 9", "5 of 9", "number", "high"),
    (WRAPPED, 3, 0, "easiest one", "hardest one", "wording", "medium"),
], ids=["list-tail-number", "list-closing-word", "product-price", "product-word",
        "table-row", "contact-phone", "contact-office", "wrapped-li", "wrapped-td",
        "wrapped-quote"])
def test_an_edit_in_the_tail_list_or_contact_block_is_one_hunk(
        store, checker, site: ArticleSite, shape: Shape, block: int, item: int, old: str,
        new: str, kind: str, significance: str) -> None:
    wrap = 80 if shape is WRAPPED else None
    name = _watch(store, checker, site, shape, wrap=wrap)
    assert checker.check(name).outcome == "unchanged"
    site.set_page(1, render(shape.edited(block, item, old, new), wrap=wrap))
    assert checker.check(name).outcome == "changed"
    [change] = _changes(store, name)
    [hunk] = change.hunks
    assert new.split()[0] in hunk.new and old.split()[0] in hunk.old
    assert hunk.kind == kind
    assert change.significance == significance
    assert checker.check(name).outcome == "unchanged"


@pytest.mark.parametrize("shape", [LEAD, LEAD_BESIDE, LEAD_UNDER_H3],
                         ids=["in-header", "beside-body", "under-h3"])
def test_the_lead_above_the_body_is_read_and_an_edit_in_it_is_one_hunk(
        store, checker, site: ArticleSite, shape: Shape) -> None:
    """A standfirst between the title and the body, which trafilatura left out: in the
    article's header, or a block of its own beside the body. The byline, the date line
    and a photo credit above the body stay out, long as the credit is."""
    name = _watch(store, checker, site, shape, wrap=80)
    _, text = version_text(store.engine, name)
    lines = text.splitlines()
    assert shape.lead in lines and lines.index(shape.lead) < lines.index(truth(shape)[2])
    for above in ("Sadykova", "Published", "press service", "Social affairs"):
        assert above not in text
    assert checker.check(name).outcome == "unchanged"
    site.set_page(1, render(replace(shape, lead=shape.lead.replace("commission", "committee")),
                            wrap=80))
    assert checker.check(name).outcome == "changed"
    [change] = _changes(store, name)
    [hunk] = change.hunks
    assert "committee" in hunk.new and "commission" in hunk.old
    assert (hunk.kind, change.significance) == ("wording", "medium")


def test_a_line_break_in_a_paragraphs_source_is_a_space_and_br_is_a_break() -> None:
    root = fold_whitespace(parse_html(
        "<body><p>one\n  two</p><blockquote>three\nfour</blockquote>"
        "<ul><li>five\n\nsix</li></ul><p>seven<br>eight<br><br>nine</p>"
        "<pre>ten\neleven</pre></body>"))
    assert element_paragraphs(root) == [
        "one two", "three four", "five six", "seven", "eight", "nine", "ten eleven"]
    assert root.find(".//pre").text == "ten\neleven"  # preformatted text keeps its lines


@pytest.mark.parametrize("word", ["Swissair", "Aeroflot"])
def test_a_short_block_is_put_back_whether_or_not_a_longer_word_holds_it(word: str) -> None:
    """A block trafilatura left out is not put back when a kept line holds its text
    already; whole words are compared, so that "Swiss" is not taken as read inside
    "Swissair", and an edit of that word does not make it appear."""
    root = parse_html(
        "<body><nav>Home</nav><article><p>The airline published its winter timetable "
        f"today.</p><p class=\"kicker\">Swiss</p><p>{word} adds two flights to Almaty "
        "from December.</p></article></body>")
    lines = ["The airline published its winter timetable today.",
             f"{word} adds two flights to Almaty from December."]
    assert restored(root, lines) == [lines[0], "Swiss", lines[1]]
    merged = [lines[0], f"Swiss {lines[1]}"]  # both blocks read as one line already
    assert restored(root, merged) == merged
