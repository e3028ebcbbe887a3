"""Control characters, noncharacters and surrogates in a page: dropped before the
page is parsed and from every stored text, so the page is read and its edits seen."""

from __future__ import annotations

import html
import itertools
import json
import time
import unicodedata

import pytest
from http_faults import FaultServer, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.document import Document
from monitor.normalize import normalize_text
from monitor.store.queries import version_document

CREATED = "2026-03-03T10:00:00.000+05:00"


def forbidden(text: str) -> list[str]:
    """The characters no stored text may hold: controls other than tab and line feed,
    surrogates and noncharacters (named here from the Unicode data, not the code)."""
    return [c for c in text if (unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n")
            or 0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE]


def _article(middle: str) -> str:
    return ("<html><head><title>Notice</title></head><body><article><h1>Notice</h1>"
            "<p>The commission met on 4 May and approved twelve decisions on the budget "
            "of the regional programmes for the coming year.</p>"
            f"<p>Minutes of the meeting{middle} will be published next week on the "
            "website of the commission, with the votes of every member.</p>"
            "<p>The next meeting is planned for June, when the reports are due.</p>"
            "</article></body></html>")



@pytest.mark.parametrize("hostile", ["\x01", "\x08", "\x1b", "\ufffe", "\uffff", "\x7f",
                                     "&#1;", "&#x1b;", "&#xFFFE;", "\x85", "\x9b"])
def test_a_control_character_in_an_article_leaves_it_readable_and_its_edits_seen(
    server: FaultServer, store, checker, hostile: str
) -> None:
    # One \x01 made trafilatura find "no main content", and every later edit went unseen.
    server.route("/notice", Reply.page(_article(hostile)))
    register(store, SourceConfig(name="notice", url=server.url("/notice"), kind="html",
                                 interval_seconds=60))
    checker.learn = False
    result = checker.check("notice")
    assert result.outcome == "captured", result.detail
    stored = version_document(store.engine, "notice")
    assert any(p.startswith("Minutes of the meeting") for p in stored.paragraphs)
    assert forbidden(stored.canonical_text()) == []
    server.route("/notice", Reply.page(_article(hostile).replace("June", "July")))
    assert checker.check("notice").outcome == "changed"


# Any code point: every category, surrogates included (a page decoded with
# surrogateescape holds some), and the ones that broke extraction, often.
_ANY = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85",
                     "\x9f", "\r", "\r\n", "\u2028", "\ufdd0", "\ufffe", "\uffff",
                     "\U0001fffe", "\U0010ffff", "\ufeff", "\u00ad", "&#1;", "&amp;"]),
)
_ids = itertools.count(1)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(_ANY, max_size=40).map("".join))
def test_any_code_points_in_an_article_are_stored_normalized_and_edits_still_seen(
    store, replica, checker, text: str
) -> None:
    """Through the gov.kz replica's API, a check and the store (SQLite and PostgreSQL)."""
    n = next(_ids)
    body = f"<p>Fixed one.</p><p>{html.escape(text)}</p><p>Fixed two.</p>"
    url = replica.add_article("mfa", 9000 + n, title=html.escape("Title " + text),
                              body_html=body, created_date=CREATED)
    register(store, SourceConfig(name=f"doc-{n}", url=url, kind="govkz", interval_seconds=60))
    result = checker.check(f"doc-{n}")
    assert result.outcome == "captured", result.detail

    stored = version_document(store.engine, f"doc-{n}")
    sent = json.loads(json.dumps(text))  # JSON makes a surrogate pair one character
    paragraphs = ("Fixed one.", normalize_text(sent), "Fixed two.")  # one <p>, one paragraph
    expected = Document(normalize_text("Title " + sent), "2026-03-03",
                        tuple(p for p in paragraphs if p))
    assert stored == expected
    assert forbidden(stored.canonical_text()) == []

    replica.edit_article(9000 + n, "en", body_html=body.replace("Fixed two.", "Fixed 2."))
    assert checker.check(f"doc-{n}").outcome == "changed"


def test_lone_surrogates_reach_the_checker_through_json_and_are_dropped(
    store, replica, checker
) -> None:
    url = replica.add_article("mfa", 8001, title="T\ud800itle",
                              body_html="<p>One\udfff two.</p>", created_date=CREATED)
    register(store, SourceConfig(name="s", url=url, kind="govkz", interval_seconds=60))
    assert checker.check("s").outcome == "captured"
    assert version_document(store.engine, "s") == Document("Title", "2026-03-03", ("One two.",))


@given(st.lists(_ANY, max_size=60).map("".join))
def test_normalized_text_holds_no_control_noncharacter_or_surrogate(text: str) -> None:
    once = normalize_text(text)
    assert forbidden(once) == [] and "\n" not in once and "\t" not in once
    assert normalize_text(once) == once


@given(st.lists(_ANY, max_size=60).map("".join))
def test_markup_for_the_parser_is_utf8_without_control_noncharacter_or_surrogate(
    text: str
) -> None:
    from monitor.normalize import markup_bytes

    data = markup_bytes(text)
    decoded = data.decode("utf-8")  # strict: no surrogate can be left
    assert forbidden(decoded.replace("\r", "")) == []  # a carriage return is a line break


@pytest.mark.parametrize("splitter", ["", ' x=">"', " y='<'"])
def test_a_tag_with_two_hundred_thousand_attributes_loses_them_and_the_page_is_read(
    server: FaultServer, store, checker, splitter: str
) -> None:
    # libxml2 checks each attribute against the earlier ones of its tag: 200,000 of
    # them in one <p> (3 MB) held `monitor check` for over 300 s, learning included.
    # A quoted `>` or `<` every 500 attributes must not hide the tag from the look.
    attributes = "".join(f" data-a{i}" + (splitter if i % 500 == 0 else "")
                         for i in range(200_000))
    page = _article("").replace("<article>", f"<article><p{attributes}>Lead.</p>")
    server.route("/notice", Reply.page(page))
    register(store, SourceConfig(name="notice", url=server.url("/notice"), kind="html",
                                 interval_seconds=60))
    started = time.monotonic()
    result = checker.check("notice")  # learning (three loads) and the capture
    assert result.outcome == "captured", result.detail
    assert time.monotonic() - started < 20
    assert any(p.startswith("Minutes of the meeting") for p in version_document(
        store.engine, "notice").paragraphs)
    server.route("/notice", Reply.page(page.replace("June", "July")))
    assert checker.check("notice").outcome == "changed"
