"""What search calls a word, how it folds one, how it reads a query and which passage
it shows: pure functions, and the FTS5 expressions they make run on a real SQLite."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import UsageError
from monitor.search.parse import MAX_TERMS, Term, parse_query, to_fts5, to_tsquery
from monitor.search.passage import ELLIPSIS, PARAGRAPH, passage, plain_text
from monitor.search.words import MAX_KEY, fold, keys, searchable_text


def test_folding_ignores_case_yo_and_accents_but_keeps_kazakh_letters_and_short_i() -> None:
    assert keys("ЁЛКА Ёж ёлка") == ["елка", "еж", "елка"]
    assert keys("ЙОД йогурт") == ["йод", "йогурт"]  # й is not и
    assert keys("ҚАЗАҚСТАН Әділет ҰЛТТЫҚ Үкімет ҒЫЛЫМ Өнер ІСКЕР Һ ҢҢ") == [
        "қазақстан", "әділет", "ұлттық", "үкімет", "ғылым", "өнер", "іскер", "һ", "ңң"]
    assert keys("Café NAÏVE İstanbul Straße") == ["cafe", "naive", "istanbul", "strasse"]
    assert keys("за́мок") == ["замок"]  # a stress mark is not a word break
    assert keys("co-operation 2025-12-11 snake_case") == [
        "co", "operation", "2025", "12", "11", "snake", "case"]
    assert fold("Ж" * 500) == "ж" * MAX_KEY


def test_what_is_searched_is_the_title_and_the_paragraphs() -> None:
    assert searchable_text("title: Закон\ndate: 2025-01-02\n\nПервый.\n\nВторой.\n") == \
        "Закон\n\nПервый.\n\nВторой."
    assert searchable_text("not a canonical text") == "not a canonical text"


@pytest.mark.parametrize("typed, terms", [
    ("смертная казнь", [Term(("смертная",)), Term(("казнь",))]),
    ("«смертная казнь»", [Term(("смертная", "казнь"))]),
    ('"death penalty" abolished', [Term(("death", "penalty")), Term(("abolished",))]),
    ("“death penalty”", [Term(("death", "penalty"))]),
    ("„смертная казнь“", [Term(("смертная", "казнь"))]),
    ('"смертная казнь', [Term(("смертная", "казнь"))]),  # unclosed: to the end
    ("суд* «закон о суд*»", [Term(("суд",), True), Term(("закон", "о", "суд"), True)]),
    ("Закон закон ЗАКОН", [Term(("закон",))]),
    ("«одно»", [Term(("одно",))]),
    ("NEAR(a b) AND ccc*d", [Term(("near",)), Term(("a",)), Term(("b",)), Term(("and",)),
                             Term(("ccc",), True), Term(("d",))]),
])
def test_queries_read_as_words_and_phrases(typed: str, terms: list[Term]) -> None:
    assert list(parse_query(typed).terms) == terms


@pytest.mark.parametrize("typed, message", [
    ("", "type a word"), ("   ", "type a word"), ('"', "no words"), ("«»", "no words"),
    ("* ** ()", "no words"), ("а*", "too short"), ("x" * 501, "too long"),
    (" ".join(f"w{n}" for n in range(MAX_TERMS + 1)), "too many words"),
    ('"' + " ".join(f"w{n}" for n in range(30)) + '"', "too long to search"),
])
def test_queries_that_say_nothing_are_refused_in_one_line(typed: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as refused:
        parse_query(typed)
    assert "\n" not in str(refused.value)


def test_the_database_gets_only_quoted_keys() -> None:
    query = parse_query('«смертная казнь» суд* NEAR( \'x\' "y')
    assert to_fts5(query) == '"смертная казнь" AND "суд" * AND "near" AND "x" AND "y"'
    assert to_tsquery(query) == "('смертная' <-> 'казнь') & 'суд':* & 'near' & 'x' & 'y'"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_no_typed_text_makes_an_fts5_expression_sqlite_refuses(typed: str) -> None:
    try:
        query = parse_query(typed)
    except UsageError:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(w, content='', tokenize='ascii')")
    conn.execute("INSERT INTO t(rowid, w) VALUES (1, ?)", (" ".join(keys(typed)),))
    found = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (to_fts5(query),)).fetchall()
    assert found == [(1,)]  # a text that is the query itself matches it


# --- passages ---------------------------------------------------------------------------
def test_a_passage_marks_the_phrase_whole_and_each_word_alone() -> None:
    text = "Первый абзац.\n\nВ 2021 году Смертная  казнь отменена."
    assert passage(text, parse_query("«смертная казнь»")) == passage(
        text, parse_query('"СМЕРТНАЯ КАЗНЬ"'))
    segments = passage(text, parse_query("«смертная казнь»"))
    assert [(s.text, s.match) for s in segments] == [
        (f"Первый абзац.{PARAGRAPH}В 2021 году ", False), ("Смертная казнь", True),
        (" отменена.", False)]
    marked = [s.text for s in passage(text, parse_query("отмен* первый")) if s.match]
    assert marked == ["Первый", "отменена"]


def test_a_long_text_shows_the_part_around_the_match() -> None:
    text = " ".join(["слово"] * 400 + ["Смертная", "казнь"] + ["слово"] * 400)
    segments = passage(text, parse_query("«смертная казнь»"))
    assert segments[0].text == ELLIPSIS and segments[-1].text == ELLIPSIS
    assert [s.text for s in segments if s.match] == ["Смертная казнь"]
    assert 200 < len(plain_text(segments)) < 400
    unmatched = passage(text, parse_query("нет"))  # the index may find what this cannot
    assert not any(s.match for s in unmatched) and plain_text(unmatched).startswith("слово")


def test_a_passage_prefers_the_place_where_most_terms_meet() -> None:
    text = ("закон " + "слово " * 200 + "суд " + "слово " * 200 + "закон и суд вместе " +
            "слово " * 100)
    marked = [s.text for s in passage(text, parse_query("закон суд")) if s.match]
    assert marked == ["закон", "суд"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="абвгқәёЁ ҚXyz.,\n«»", min_size=1, max_size=12),
                min_size=1, max_size=120), st.data())
def test_a_word_of_the_text_is_marked_in_its_passage(parts: list[str], data: st.DataObject) -> None:
    text = " ".join(parts)
    found = keys(text)
    if not found:
        return
    word = data.draw(st.sampled_from(found))
    segments = passage(text, parse_query(f"«{word}»"))
    assert any(s.match and fold(s.text) == word for s in segments)
    shown = plain_text(segments).strip(ELLIPSIS).replace(PARAGRAPH, " ")
    assert shown in re.sub(r"\s+", " ", text)
