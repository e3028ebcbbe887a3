"""Full-text search over every stored version: the index kept in step with the log,
rebuilt from it, filled by the migration, and queries no one can break.

Every store is a real SQLite file or PostgreSQL schema; versions are recorded through
the event store, as the checker records them.
"""

from __future__ import annotations

from typing import Any

import pytest
from search_helpers import ABOLISHED, KAZAKH, canonical, record
from sqlalchemy import Engine, text
from web_helpers import serve

from monitor.errors import UsageError
from monitor.events import SourceRegistered, VersionCaptured
from monitor.search import matching
from monitor.search.query import search
from monitor.store import EventStore, migrate, open_store, projections
from monitor.store.database import open_engine
from monitor.store.search_index import TABLE

BEFORE_SEARCH = "0009"  # the schema revision before the search index (0010)


def found(engine: Engine, query: str, **options: Any) -> list[tuple[str, int]]:
    return [(hit.source, hit.version) for hit in search(engine, query, **options).hits]


def index_entries(engine: Engine) -> list[tuple[Any, ...]]:
    """Everything the index holds: each (version, word, place) on SQLite (FTS5's own
    vocabulary table), each version's tsvector on PostgreSQL."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocabulary "
                              f"USING fts5vocab(main, {TABLE}, instance)"))
            return [tuple(r) for r in conn.execute(text(
                "SELECT doc, term, offset FROM temp.vocabulary ORDER BY doc, offset"))]
        return [tuple(r) for r in conn.execute(text(
            f"SELECT event_position, words::text FROM {TABLE} ORDER BY event_position"))]


# --- what is found ----------------------------------------------------------------------
def test_a_phrase_is_found_in_the_older_version_that_a_later_one_removed(store) -> None:
    record(store, "law", canonical("Закон о наказаниях", ABOLISHED, "Статья 1."),
           canonical("Закон о наказаниях", "Статья 1.", "Статья 2."))
    record(store, "news", canonical("Новости", "Смертная скука. Казнь — слово, но не фраза."))

    result = search(store.engine, "«смертная казнь»")
    assert [(h.source, h.version, h.latest_version, h.in_latest) for h in result.hits] == [
        ("law", 1, 2, False)]
    marked = [s.text for s in result.hits[0].passage if s.match]
    assert marked == ["смертная казнь"]
    assert found(store.engine, '"смертная казнь"') == [("law", 1)]  # straight quotes too
    assert found(store.engine, "смертная казнь") == [("news", 1), ("law", 1)]  # words
    assert found(store.engine, "«казнь смертная»") == []  # a phrase keeps its order
    # Within one document every version that matches is a hit, newest first.
    assert found(store.engine, "статья", source="law") == [("law", 2), ("law", 1)]
    assert found(store.engine, "«смертная казнь»", source="law") == [("law", 1)]


def test_a_phrase_is_found_where_newer_versions_hold_its_words_apart(
        store, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL checks phrase candidates (versions holding every word) newest first, a
    batch at a time; two to a batch here, so documents span batches."""
    monkeypatch.setattr(matching, "_RECHECK", 2)
    apart = canonical("Закон", "Смертная скука; казнь отменена.")
    record(store, "law", canonical("Закон", ABOLISHED), apart, apart + " ")
    record(store, "other", apart, canonical("Закон", ABOLISHED), apart)
    record(store, "words", apart)
    record(store, "third", canonical("Закон", ABOLISHED))
    assert found(store.engine, "«смертная казнь»") == [("third", 1), ("other", 2), ("law", 1)]
    assert found(store.engine, "«смертная казнь» закон", limit=2, offset=1) == [
        ("other", 2), ("law", 1)]
    result = search(store.engine, "«смертная казнь»", limit=2)
    assert result.more and result.complete


def test_a_phrase_search_that_runs_out_of_time_says_so(postgres_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(postgres_url, check_schema=False)
    migrate.upgrade(store.engine)
    try:
        apart = canonical("Закон", "Смертная скука; казнь отменена.")
        for name in ("a", "b", "c"):
            record(store, name, canonical("Закон", ABOLISHED), apart)
        monkeypatch.setattr(matching, "_RECHECK", 1)
        monkeypatch.setattr(matching, "PHRASE_BUDGET", 0.0)
        result = search(store.engine, "«смертная казнь»")
        assert not result.complete and not result.more
        assert [(h.source, h.version) for h in result.hits] == [("c", 1)][:len(result.hits)]
        assert result.as_data()["complete"] is False
        whole = search(store.engine, "«смертная казнь»", source="b")  # one document: all
        assert whole.complete and [h.version for h in whole.hits] == [1]
        with serve(store) as served:
            page = served.user("ana", "viewer").get("/search", params={"q": "«смертная казнь»"})
        assert page.status_code == 200 and 'class="search-partial"' in page.text
    finally:
        store.engine.dispose()


def test_kazakh_and_russian_match_whatever_the_case_and_yo(store) -> None:
    record(store, "konst", canonical("Ата Заң", KAZAKH, "Ёлка и ЁЖ, Café."))
    for query in ("қазақстан республикасының", "Қазақстан РЕСПУБЛИКАСЫНЫҢ", "«адам ҚҰҚЫҚТАРЫ»",
                  "елка", "ЁЛКА", "еж", "cafe", "CAFÉ", "құқық*", "Республика*"):
        assert found(store.engine, query) == [("konst", 1)], query
    # Kazakh letters are letters of their own: қ is not к, ұ is not у.
    assert found(store.engine, "казакстан") == []
    assert found(store.engine, "кукыктары") == []
    hit = search(store.engine, "құқықтары").hits[0]
    assert [s.text for s in hit.passage if s.match] == ["құқықтары"]


def test_hostile_queries_give_one_line_errors_or_sane_results(store) -> None:
    record(store, "law", canonical("Закон", ABOLISHED, 'A "quoted" NEAR(word) * OR 1=1'))
    hostile = ['"', "*", "NEAR(", "NEAR(a b)", "') OR 1=1 --", "a" * 10_000, "x " * 5000,
               "«", "»", '"смертная', "казнь*", "AND", "OR NOT", "^", "col:word", "'", "\\",
               "\x00", "sel\x00ect", "a:*", "a & b | !c", "<->", "word:* & (", "₽₽₽", "ّ",
               "-", "\u202e", "😀", " ", "quoted\"", "(", ")", "{}", "%", "_", "?"]
    for query in hostile:
        try:
            result = search(store.engine, query)
        except UsageError as exc:
            message = str(exc)
            assert message and "\n" not in message and len(message) < 200, (query, message)
            continue
        assert result.hits == () or {h.source for h in result.hits} == {"law"}, query
    assert found(store.engine, "NEAR(") == [("law", 1)]  # a word like any other
    assert found(store.engine, "') OR 1=1 --") == [("law", 1)]  # the words "or" and "1"
    with pytest.raises(UsageError, match="too long"):
        search(store.engine, "a" * 10_000)
    with pytest.raises(UsageError, match="no source named"):
        search(store.engine, "закон", source="nope")


def test_a_version_whose_text_is_missing_is_still_recorded(store) -> None:
    """The index must never refuse an append: a text not stored (verify names it) is
    indexed as nothing."""
    store.append("law", 0, [SourceRegistered(name="law", url="http://127.0.0.1/law",
                                             kind="html", interval_seconds=60)])
    store.append("law", 1, [VersionCaptured(content_hash="0" * 64, url="http://127.0.0.1/law")])
    assert store.stream_version("law") == 2
    assert found(store.engine, "закон") == []


# --- kept in step with the log -----------------------------------------------------------
def test_rebuild_reproduces_the_index(store) -> None:
    record(store, "law", canonical("Закон", ABOLISHED), canonical("Закон", "Статья 1."),
           canonical("Закон", ABOLISHED))  # reverted: the same text again
    record(store, "konst", canonical(None, KAZAKH))
    kept = index_entries(store.engine)
    assert len({entry[0] for entry in kept}) == 4  # one document per version
    before = found(store.engine, "«смертная казнь»"), found(store.engine, "закон", source="law")

    with store.engine.begin() as conn:  # spoil it: rebuild must not add to what is there
        conn.execute(text(f"DELETE FROM {TABLE}" if conn.dialect.name != "sqlite" else
                          f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')"))
    assert found(store.engine, "закон") == []
    projections.rebuild(store.engine)
    assert index_entries(store.engine) == kept
    projections.rebuild(store.engine)  # and again, from a full index
    assert index_entries(store.engine) == kept
    assert (found(store.engine, "«смертная казнь»"),
            found(store.engine, "закон", source="law")) == before
    assert before == ([("law", 3)], [("law", 3), ("law", 2), ("law", 1)])


def test_a_store_from_before_search_is_searchable_once_upgraded(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        migrate.upgrade(engine, BEFORE_SEARCH)
        before_search = EventStore(engine, [projections.apply])  # what that program kept
        record(before_search, "law", canonical("Закон", ABOLISHED), canonical("Закон", "Нет."))
        record(before_search, "konst", canonical(None, KAZAKH))

        migrate.upgrade(engine)
        assert found(engine, "«смертная казнь»") == [("law", 1)]
        assert found(engine, "қазақстан") == [("konst", 1)]
        filled = index_entries(engine)
        projections.rebuild(engine)
        assert index_entries(engine) == filled  # the migration indexes as the log would

        migrate.downgrade(engine, BEFORE_SEARCH)
        with engine.connect() as conn:
            left = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'search%'"
                if conn.dialect.name == "sqlite" else
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'search%' "
                "AND schemaname = current_schema()")).all()
        assert left == []
        migrate.upgrade(engine)
        assert found(engine, "«смертная казнь»") == [("law", 1)]
    finally:
        engine.dispose()
