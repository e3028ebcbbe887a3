"""Search in the web app, the API and `monitor search`: hits link to the document and
its version, matches are marked and page text is escaped, paging, and nothing a
user types reaches a server error. On SQLite (test_search.py covers PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cli_helpers import monitor
from search_helpers import ABOLISHED, canonical, record
from web_helpers import Served, serve

from monitor.store import EventStore, migrate, open_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


@pytest.fixture
def served(sqlite_store: EventStore) -> Iterator[Served]:
    with serve(sqlite_store) as found:
        yield found


def passage_html(page: str) -> list[str]:
    return re.findall(r'<p class="passage" dir="auto">(.*?)</p>', page, re.S)


def test_a_hit_links_its_document_and_version_and_marks_the_match(served: Served) -> None:
    record(served.store, "law", canonical("Закон <b>о наказаниях</b>", ABOLISHED),
           canonical("Закон <b>о наказаниях</b>", "Отменено."))
    record(served.store, "evil", canonical("<script>alert('title')</script>",
                                           "<script>alert(1)</script> смертная казнь <img src=x "
                                           "onerror=alert(2)>"))
    browser = served.user("ana", "viewer")
    page = browser.get("/search", params={"q": "«смертная казнь»"})
    assert page.status_code == 200
    html = page.text
    assert 'href="/sources/law"' in html and 'href="/sources/law/versions/1"' in html
    assert 'href="/sources/evil/versions/1"' in html
    assert "<mark>смертная казнь</mark>" in html
    assert "not in the latest version (2)" in html  # law's phrase was removed in v2
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:]+Z">[^<]+</time>', html)
    # Page text is shown as text, never as markup.
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>о" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in "".join(passage_html(html))
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;о наказаниях&lt;/b&gt;" in html
    # The query is page input too: echoed escaped in the box and the message.
    hostile = browser.get("/search", params={"q": '"><script>x</script>'})
    assert hostile.status_code == 200 and "<script>x" not in hostile.text
    assert "&lt;script&gt;x&lt;/script&gt;" in hostile.text


def test_results_are_paged_and_an_empty_result_says_so(served: Served) -> None:
    for number in range(23):
        record(served.store, f"doc-{number:02d}", canonical(f"Приказ {number}", "Общий текст."))
    browser = served.user("ana", "viewer")
    first = browser.get("/search", params={"q": "общий"})
    assert first.status_code == 200 and len(passage_html(first.text)) == 20
    assert 'rel="next" href="/search?q=%D0%BE%D0%B1%D1%89%D0%B8%D0%B9&amp;source=&amp;page=2"' \
        in first.text
    assert 'href="/sources/doc-22"' in first.text  # newest first
    second = browser.get("/search", params={"q": "общий", "page": "2"})
    assert len(passage_html(second.text)) == 3 and 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text and 'href="/sources/doc-00"' in second.text
    nothing = browser.get("/search", params={"q": "несуществующее"})
    assert nothing.status_code == 200 and "Nothing found for несуществующее." in nothing.text
    within = browser.get("/search", params={"q": "общий", "source": "doc-05"})
    assert len(passage_html(within.text)) == 1 and "Search all documents" in within.text
    empty_form = browser.get("/search")
    assert empty_form.status_code == 200 and 'name="q"' in empty_form.text


@pytest.mark.parametrize("params", [
    {"q": '"'}, {"q": "*"}, {"q": "NEAR("}, {"q": "') OR 1=1 --"}, {"q": "a" * 10_000},
    {"q": "закон", "page": "0"}, {"q": "закон", "page": "x"}, {"q": "закон", "page": "9" * 30},
    {"q": "закон", "source": "nope"}, {"q": "а*"}, {"q": "закон", "page": "-1"},
])
def test_what_users_type_gets_the_page_or_a_one_line_error(served: Served,
                                                          params: dict[str, str]) -> None:
    record(served.store, "law", canonical("Закон", ABOLISHED))
    page = served.user("ana", "viewer").get("/search", params=params)
    assert page.status_code in (200, 400), page.text[:300]
    errors = re.findall(r'<p class="error" role="alert">(.*?)</p>', page.text, re.S)
    if page.status_code == 400:
        assert len(errors) == 1 and "\n" not in errors[0] and 0 < len(errors[0]) < 200
        assert 'name="q"' in page.text  # the form again, to correct it


def test_the_api_searches_with_a_token_and_refuses_without(served: Served) -> None:
    """The shapes are tests/test_web_api_reads.py's; here: the same hits as the page."""
    record(served.store, "law", canonical("Закон", ABOLISHED), canonical("Закон", "Нет."))
    token = served.token("bot", "viewer")
    auth = {"Authorization": f"Bearer {token}"}
    answer = requests.get(served.url + "/api/v1/search", params={"q": "«смертная казнь»"},
                          headers=auth, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["next"] is None and len(body["items"]) == 1
    hit = body["items"][0]
    assert (hit["source"], hit["version"], hit["latest_version"], hit["in_latest"]) == (
        "law", 1, 2, False)
    assert {"text": "смертная казнь", "match": True} in hit["passage"]
    for query in ('"', "*", "x" * 2000):
        bad = requests.get(served.url + "/api/v1/search", params={"q": query}, headers=auth,
                           timeout=10)
        assert bad.status_code in (400, 422) and "\n" not in str(bad.json()["detail"])
    anonymous = requests.get(served.url + "/api/v1/search", params={"q": "закон"}, timeout=10)
    assert anonymous.status_code == 401


def test_monitor_search_prints_hits_and_json(sqlite_store: EventStore, tmp_path: Path) -> None:
    record(sqlite_store, "law", canonical("Закон", ABOLISHED, "\x1b[2J"),
           canonical("Закон", "Нет."))
    url = str(sqlite_store.engine.url)
    shown = monitor("--database", url, "search", "«смертная казнь»", cwd=tmp_path)
    assert shown.code == 0, shown.err
    assert "Закон (law)  v1" in shown.out and "not in the latest version, v2" in shown.out
    assert "смертная казнь" in shown.out and "\x1b" not in shown.out
    data = monitor("--database", url, "search", "закон", "--source", "law", "--format",
                   "json", cwd=tmp_path).json()
    assert [(h["version"], h["in_latest"]) for h in data["hits"]] == [(2, True), (1, False)]
    refused = monitor("--database", url, "search", "*", cwd=tmp_path)
    assert refused.code == 2 and refused.err.count("\n") == 1 and "no words" in refused.err
