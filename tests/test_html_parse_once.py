"""The html adapter parses a page once (lxml) and every step reads that tree: masks
compiled once and matched against the page as fetched, the title, the selection, the
date and the main text. Hostile pages end in a failure kind, never an exception."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError, FetchFailed
from monitor.fetch import Response
from monitor.sources import masking
from monitor.sources.base import Capture, SourceSpec
from monitor.sources.blocks import element_paragraphs, fragment_paragraphs, parse_html
from monitor.sources.html import HtmlPage
from monitor.sources.maintext import page_title

ARTICLE = ("<p>The commission met on 4 May and approved twelve decisions on the budget "
           "of the region and on the schools.</p><p>The minutes will be published next "
           "week on the portal, with the votes of every member.</p>")


class PageFetcher:
    """Answers every GET with one page, as the Fetcher would have read it."""

    def __init__(self, page: str | bytes, charset: str = "utf-8") -> None:
        self.content = page.encode(charset) if isinstance(page, str) else page
        self.charset = charset

    def get(self, url: str, validators: object = None, ca_bundle: object = None,
            headers: object = None) -> Response:
        return Response(url=url, status=200, headers={}, content=self.content,
                        content_type="text/html", charset=self.charset)


def capture(page: str | bytes, charset: str = "utf-8", **fields: object) -> Capture:
    spec = SourceSpec(name="p", url="http://site.test/p", kind="html", **fields)  # type: ignore[arg-type]
    result = HtmlPage().capture(spec, PageFetcher(page, charset))  # type: ignore[arg-type]
    assert isinstance(result, Capture)
    return result


def test_learned_masks_match_the_page_as_fetched_not_one_already_cut() -> None:
    root = parse_html("<html><body><div>Clock 12:01</div><div>Views: 7</div>"
                      "<div>Body text stays.</div></body></html>")
    masking.remove_masked(root, ("html > body > div:nth-of-type(1)",
                                 "html > body > div:nth-of-type(2)"))
    assert element_paragraphs(root) == ["Body text stays."]


def test_text_after_a_masked_element_stays() -> None:
    root = parse_html('<p>Published today <span class="views">Views: 12</span> in Astana.</p>')
    masking.remove_masked(root, (".views",))
    assert element_paragraphs(root) == ["Published today in Astana."]


def test_template_content_is_neither_selected_nor_masked_away() -> None:
    root = parse_html("<body><template><p>Row template</p></template><p>Text</p></body>")
    assert [p.text for p in masking.select(root, "p")] == ["Text"]


def test_an_invalid_selector_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid"):
        masking.select(parse_html("<p>x</p>"), "p[")


def test_titles_read_as_before_comments_and_scripts_included() -> None:
    root = parse_html("<html><body><h1>Budget<!-- cms -->report<script>x=1</script> "
                      "2026</h1></body></html>")
    assert page_title(root) == "Budget report 2026"
    assert fragment_paragraphs("<p>A<!-- c -->B</p><ruby>漢<rt>kan</rt></ruby>") == [
        "AB", "漢kan"]


def test_a_page_declaring_another_encoding_in_xml_is_read_as_decoded() -> None:
    page = ('<?xml version="1.0" encoding="windows-1251"?><html><head><title>Приказ</title>'
            f"</head><body><article><h1>Приказ</h1>{ARTICLE}</article></body></html>")
    got = capture(page.encode("windows-1251"), charset="windows-1251", selector="article")
    assert got.document.title == "Приказ"
    assert got.document.paragraphs[0].startswith("The commission met")


def test_main_text_title_and_date_come_from_one_parse() -> None:
    page = ('<!DOCTYPE html><html><head><meta property="og:title" content="Decisions">'
            '<meta property="article:published_time" content="2026-05-04"></head><body>'
            '<nav><a href="/">Home</a></nav><main><article><h1>Decisions</h1>'
            f'<p class="info">Views: <span class="views">41</span></p>{ARTICLE}</article>'
            "</main><footer>© Agency</footer></body></html>")
    got = capture(page, ignore=(".info",))
    assert got.document.title == "Decisions"
    assert got.document.published == "2026-05-04"
    assert got.document.paragraphs[0].startswith("The commission met on 4 May")
    assert not any("Views" in p for p in got.document.paragraphs)


@pytest.mark.parametrize("page", [
    "", "   ", "<!-- only a comment -->", "<!-- lead --><svg><title>x</title></svg>",
    "\x00\x01<p>" * 3, "<div>" * 20000 + "deep" + "</div>" * 20000,
])
def test_hostile_pages_end_in_a_failure_kind_never_an_exception(page: str) -> None:
    try:
        capture(page)
    except FetchFailed as exc:
        assert exc.kind in ("empty", "parse")
