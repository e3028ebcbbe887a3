"""Normalization: invisible differences vanish, visible ones are kept."""



from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.document import Document
from monitor.normalize import (
    normalize,
    normalize_date,
    normalize_document,
    normalize_text,
    parse_capture,
    split_paragraphs,
)
from monitor.replica.baseline import seed_path

SEED = seed_path()
CYRILLIC_A = "\u0430"


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def test_seed_capture_normalizes_to_article_paragraphs() -> None:
    doc = parse_capture(seed_text())

    assert doc.title is None
    assert doc.published == "2025-12-11"
    assert len(doc.paragraphs) == 8
    assert doc.paragraphs[0].startswith("A scientific and practical conference entitled “Human")
    assert doc.paragraphs[-1].endswith("penitentiary reform.")
    assert not any("gov.kz" in p for p in doc.paragraphs)
    assert f"Khojim{CYRILLIC_A}tov" in doc.paragraphs[3]  # the homoglyph is content, kept
    assert "country’s" in doc.paragraphs[3]  # so are curly quotes
    assert all(p == normalize_text(p) for p in doc.paragraphs)


def test_seed_capture_is_already_normalized() -> None:
    doc = parse_capture(seed_text())
    assert normalize(doc) == doc
    assert Document.from_canonical(doc.canonical_text()) == doc


def test_capture_with_title_line_has_that_title() -> None:
    doc = parse_capture("title:  Human  Rights Day\n date 2025-12-11 Images | gov.kz\n\nBody.\n")
    assert doc.title == "Human Rights Day"
    assert doc.published == "2025-12-11"
    assert doc.paragraphs == ("Body.",)


def test_capture_without_chrome_is_all_body() -> None:
    doc = parse_capture("First paragraph.\n\nSecond paragraph.")
    assert doc == Document(None, None, ("First paragraph.", "Second paragraph."))


def test_canonical_text_reads_back_as_a_capture() -> None:
    doc = Document("Title “x”", "2025-12-11", ("One.", "Two, 77th."))
    assert parse_capture(doc.canonical_text()) == doc


def test_invisible_characters_are_removed() -> None:
    raw = "Ka\u200bzakh\u00adstan\ufeff re\u200cpo\u200drts\u2060"
    assert normalize_text(raw) == "Kazakhstan reports"


def test_every_kind_of_whitespace_becomes_one_space() -> None:
    raw = "  the\u00a0Republic\u2009of\tKazakhstan\n reports \u202f\r\n"
    assert normalize_text(raw) == "the Republic of Kazakhstan reports"


def test_decomposed_letters_are_composed() -> None:
    assert normalize_text("Ales\u030cka") == "Aleška"
    assert normalize_text("Simkic\u0301") == "Simkić"


def test_quotes_dashes_and_letters_are_not_touched() -> None:
    text = f"“Human Rights” — «права» – Khojim{CYRILLIC_A}tov's … 'x'"
    assert normalize_text(text) == text


def test_a_whitespace_only_line_separates_paragraphs() -> None:
    text = "one\nline\n \t\u00a0\ntwo\n\n\n\nthree  \n"
    assert split_paragraphs(text) == ("one line", "two", "three")


def test_no_paragraphs_in_blank_text() -> None:
    assert split_paragraphs(" \n\u200b\n\t") == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-12-11", "2025-12-11"),
        ("2025-12-11T10:15:00.000+05:00", "2025-12-11"),
        ("2025-12-11T23:30:00-03:00", "2025-12-11"),  # the local date as written, not UTC
        ("14 июля 2026 11:58", "2026-07-14"),
        ("14 июля 2026", "2026-07-14"),
        ("1 марта 2024", "2024-03-01"),
        ("3 мая 2024 г.", "2024-05-03"),
        ("11 желтоқсан 2025", "2025-12-11"),
        ("2025 жылғы 11 желтоқсан", "2025-12-11"),
        ("5 қаңтар 2026", "2026-01-05"),
        ("20 сәуірде 2024", "2024-04-20"),
        ("7 қыркүйек 2023", "2023-09-07"),
        ("30 қараша 2023", "2023-11-30"),
        ("December 11, 2025", "2025-12-11"),
        ("11 December 2025", "2025-12-11"),
        ("Sept 3, 2024", "2024-09-03"),
        ("11.12.2025", "2025-12-11"),
        ("11.12.2025 10:15", "2025-12-11"),
    ],
)
def test_dates_in_every_written_form_become_iso(raw: str, expected: str) -> None:
    assert normalize_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", "yesterday", "31 февраля 2025", "2025-13-01", "32.01.2025", "December 2025",
     "11 12 December 2025", "11 декабря"],
)
def test_unreadable_dates_are_unknown(raw: str | None) -> None:
    assert normalize_date(raw) is None


def test_document_fields_are_normalized() -> None:
    doc = normalize_document(
        " \u200b ", "11 желтоқсан 2025", ["First\u00a0 para.\n\n\nSecond\npara.", "  ", "Third."]
    )
    assert doc == Document(None, "2025-12-11", ("First para.", "Second para.", "Third."))


# --- properties -------------------------------------------------------------

_titles = st.one_of(st.none(), st.text(max_size=30))
_dates = st.one_of(
    st.none(), st.dates().map(lambda d: d.isoformat()), st.text(max_size=20),
    st.dates().map(lambda d: f"{d.day}.{d.month:02d}.{d.year:04d}"),
)
_documents = st.builds(Document, _titles, _dates, st.lists(st.text(), max_size=6).map(tuple))


@given(st.text())
def test_normalizing_text_twice_equals_once(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text())
def test_split_paragraphs_is_stable(text: str) -> None:
    paragraphs = split_paragraphs(text)
    assert split_paragraphs("\n\n".join(paragraphs)) == paragraphs


@given(_documents)
def test_normalizing_a_document_twice_equals_once(doc: Document) -> None:
    once = normalize(doc)
    assert normalize(once) == once


@given(_documents)
def test_normalized_document_survives_its_canonical_text(doc: Document) -> None:
    doc = normalize(doc)
    assert Document.from_canonical(doc.canonical_text()) == doc
