"""The board: every source with its title (escaped), kind, state, tags, last check,
last change, failure streak and next check; filters in the query string; counts per
state; pages of 100; bad filter values refused in one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import html
from web_helpers import Client, Served, serve

from monitor.catalog import pause, register
from monitor.clock import ManualClock
from monitor.config import SourceConfig
from monitor.events import (
    ChangeDetected,
    Event,
    FetchFailedEvent,
    SourceRecovered,
    VersionCaptured,
)
from monitor.evidence.ledger import FAILED, UNCHANGED, Ledger
from monitor.store import EventStore, migrate, open_store, projections
from monitor.store.queries import list_sources, table_rows
from monitor.store.schema import sources

T0 = datetime(2026, 3, 1, 10, 0, 0)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(f"sqlite:///{tmp_path / 'board.db'}", check_schema=False,
                       clock=ManualClock(T0))
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


def _add(store: EventStore, name: str, kind: str = "html", tags: tuple[str, ...] = (),
         interval: int = 600, url: str | None = None) -> None:
    suffix = {"pdf": ".pdf", "docx": ".docx"}.get(kind, "")
    register(store, SourceConfig(name=name, url=url or f"http://127.0.0.1:9/{name}{suffix}",
                                 kind=kind, interval_seconds=interval, tags=tags))


def _append(store: EventStore, name: str, *events: Event) -> None:
    store.append(name, store.stream_version(name), list(events))


def _version(title: str, n: int = 1) -> VersionCaptured:
    return VersionCaptured(content_hash=f"{n:064x}", url="http://127.0.0.1:9/x", title=title)


def _change(significance: str) -> ChangeDetected:
    return ChangeDetected(from_hash="b" * 64, to_hash="a" * 64, significance=significance,
                          classes=("wording",), summary="edited", change={})


def _viewer(served: Served) -> Client:
    """A client that reads pages with a viewer's API token (no password to hash: fast)."""
    client = served.client()
    client.headers.update({"Authorization": f"Bearer {served.token('reader', 'viewer')}",
                           "Accept": "text/html"})
    return client


def _rows(page: str) -> dict[str, html.HtmlElement]:
    tree = html.fromstring(page)
    return {row.get("data-source"): row for row in tree.xpath('//tbody[@id="board-rows"]/tr')
            if row.get("data-source")}


def _cell(row: html.HtmlElement, name: str) -> str:
    [cell] = row.xpath(f'td[@class="{name}"]')
    stamp = cell.xpath(".//time/@datetime")
    return stamp[0] if stamp else cell.text_content().strip()


def _fill(store: EventStore) -> None:
    """Five sources that differ in every way the board filters."""
    _add(store, "press", "govkz", ("mfa",), url="https://www.gov.kz/memleket/entities/mfa/"
         "press/news/details/1?lang=ru")
    _append(store, "press", _version("Министр иностранных дел"), _change("high"))
    _add(store, "decree", "pdf", ("human-rights", "mfa"))
    _append(store, "decree", _version("Decree on courts"), _change("low"))
    _add(store, "prisons", "html", ("human-rights",))
    _append(store, "prisons", _version("Penitentiary report"), _change("medium"))
    _add(store, "broken", "html")
    _append(store, "broken", FetchFailedEvent(kind="timeout", message="read timed out"))
    _add(store, "quiet", "docx")
    pause(store, "quiet")


def test_the_board_lists_every_source_and_escapes_hostile_titles(sqlite_store) -> None:
    _add(sqlite_store, "hostile")
    _append(sqlite_store, "hostile",
            _version('<script>alert("board")</script><img src=x onerror=alert(1)>'))
    _add(sqlite_store, "plain")
    with serve(sqlite_store) as served:
        page = served.user("ana", "viewer").get("/")  # signed in as a browser is
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;board&#34;)&lt;/script&gt;" in page.text
    rows = _rows(page.text)
    assert set(rows) == {"hostile", "plain"}
    document = rows["hostile"].xpath('td[@class="document"]')[0]
    assert document.xpath("a/text()") == ['<script>alert("board")</script><img src=x '
                                          'onerror=alert(1)>']
    assert document.xpath('div[@class="name"]/text()') == ["hostile"]
    assert document.xpath("a/@href") == ["/sources/hostile"]
    assert _cell(rows["plain"], "document").startswith("plain")  # no title yet: the name
    tree = html.fromstring(page.text)
    assert tree.xpath('//section[@id="board"]/@data-position') == [
        str(sqlite_store.last_position())]
    assert tree.xpath('//script/@src') == ["/static/app.js"]
    assert not tree.xpath("//script[not(@src)]") and "style=" not in page.text


def test_each_filter_narrows_the_board(store) -> None:  # type: ignore[no-untyped-def]
    _fill(store)
    with serve(store) as served:
        viewer = _viewer(served)

        def shown(query: str) -> set[str]:
            page = viewer.get("/" + query)
            assert page.status_code == 200, page.text
            return set(_rows(page.text))

        assert shown("") == {"press", "decree", "prisons", "broken", "quiet"}
        assert shown("?state=failing") == {"broken"}
        assert shown("?state=paused") == {"quiet"}
        assert shown("?state=removed") == set()
        assert shown("?significance=high") == {"press"}
        assert shown("?significance=low") == {"decree"}
        assert shown("?kind=pdf") == {"decree"}
        assert shown("?kind=govkz") == {"press"}
        assert shown("?tag=mfa") == {"press", "decree"}
        assert shown("?tag=human-rights") == {"decree", "prisons"}
        assert shown("?q=courts") == {"decree"}  # in the title
        assert shown("?q=PRISONS") == {"prisons"}  # the name, in any case
        assert shown("?q=%D0%9C%D0%98%D0%9D%D0%98%D0%A1%D0%A2%D0%A0") == {"press"}  # МИНИСТР
        assert shown("?q=gov.kz") == {"press"}  # the URL
        assert shown("?q=100%25") == set()  # a LIKE wildcard is only a character
        assert shown("?tag=mfa&significance=low&kind=pdf&q=decree") == {"decree"}
        assert shown("?tag=mfa&kind=html") == set()
        page = viewer.get("/?tag=human-rights&state=active")
    tree = html.fromstring(page.text)
    counts = {a.get("data-state"): int(a.xpath('span[@class="count"]/text()')[0])
              for a in tree.xpath('//nav[@id="board-counts"]/a')}
    # Counts per state under every other filter: two tagged human-rights, both active.
    assert counts == {"": 2, "active": 2, "failing": 0, "paused": 0, "gone": 0, "removed": 0}
    links = tree.xpath('//nav[@id="board-counts"]/a[@data-state="failing"]/@href')
    assert links == ["/?state=failing&tag=human-rights"]
    assert tree.xpath('//select[@name="tag"]/option[@selected]/@value') == ["human-rights"]
    assert tree.xpath('//select[@name="state"]/option[@selected]/@value') == ["active"]


def test_counts_and_the_rows_fragment_of_the_whole_board(sqlite_store) -> None:
    _fill(sqlite_store)
    with serve(sqlite_store) as served:
        viewer = _viewer(served)
        page = viewer.get("/")
        fragment = viewer.get("/?kind=pdf&fragment=rows")
    tree = html.fromstring(page.text)
    counts = {a.get("data-state"): a.xpath('span[@class="count"]/text()')[0]
              for a in tree.xpath('//nav[@id="board-counts"]/a')}
    assert counts == {"": "5", "active": "3", "failing": "1", "paused": "1", "gone": "0",
                      "removed": "0"}
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="board-filters"' not in fragment.text
    assert set(_rows(fragment.text)) == {"decree"}
    assert 'id="board-counts"' in fragment.text and 'id="board-paging"' in fragment.text


BAD_FILTERS = (
    ("state=bogus", "state: 'bogus' is not one of active, failing, paused, gone, removed"),
    ("significance=huge", "significance: 'huge' is not one of high, medium, low"),
    ("kind=rss", "kind: 'rss' is not one of"),
    ("tag=Not%20a%20tag", "tag: 'Not a tag' is not a tag"),
    ("q=" + "x" * 201, "q: at most 200 characters"),
    # (NUL is refused before any route: test_web_hostile.py)
    ("q=a%01b", "q: control characters cannot be searched for"),
    ("page=0", "page: must be a whole number from 1 to 100000"),
    ("page=" + "9" * 5000, "page: must be a whole number"),
    ("page=%D9%A1", "page: must be a whole number"),  # an Arabic-Indic digit one
    ("fragment=all", "fragment: 'all' is not one of rows"),
)


def test_a_bad_filter_value_is_a_one_line_error(sqlite_store) -> None:
    with serve(sqlite_store) as served:
        viewer = _viewer(served)
        for query, said in BAD_FILTERS:
            page = viewer.get("/?" + query)
            assert page.status_code == 422, query
            [error] = html.fromstring(page.text).xpath('//p[@id="board-error"]/text()')
            assert said in error and "\n" not in error and "Traceback" not in page.text
            assert 'id="board-filters"' in page.text  # the form again, to correct it


def test_the_board_is_paged_by_100_and_links_keep_the_filters(sqlite_store) -> None:
    for n in range(105):
        _add(sqlite_store, f"doc-{n:03d}", tags=("bulk",))
    _add(sqlite_store, "untagged")
    with serve(sqlite_store) as served:
        viewer = _viewer(served)
        first = viewer.get("/?tag=bulk")
        tree = html.fromstring(first.text)
        [next_link] = tree.xpath('//nav[@id="board-paging"]/a[@rel="next"]/@href')
        second = viewer.get(next_link)
    assert len(_rows(first.text)) == 100
    assert next_link == "/?tag=bulk&page=2"
    assert set(_rows(second.text)) == {f"doc-{n:03d}" for n in range(100, 105)}
    assert "101–105 of 105" in second.text
    assert html.fromstring(second.text).xpath('//a[@rel="prev"]/@href') == ["/?tag=bulk"]


def test_next_due_and_failing_since_for_failing_paused_and_unchecked_sources(
        sqlite_store) -> None:
    clock = sqlite_store.clock
    ledger = Ledger(sqlite_store.engine)

    def at(minutes: int) -> datetime:
        clock.set(T0 + timedelta(minutes=minutes))
        return clock()

    _add(sqlite_store, "failing", interval=600)
    _add(sqlite_store, "paused", interval=600)
    _add(sqlite_store, "overdue", interval=60)
    _add(sqlite_store, "fresh", interval=3600)
    _add(sqlite_store, "recovered", interval=600)
    ledger.record("overdue", at(0), 200, UNCHANGED, None, None)
    ledger.record("failing", at(1), 0, FAILED, None, None)
    _append(sqlite_store, "failing", FetchFailedEvent(kind="timeout", message="timed out"))
    _append(sqlite_store, "recovered", FetchFailedEvent(kind="timeout", message="timed out"))
    ledger.record("paused", at(2), 200, UNCHANGED, None, None)
    _append(sqlite_store, "paused", FetchFailedEvent(kind="http_error", message="503", status=503))
    pause(sqlite_store, "paused")
    ledger.record("failing", at(5), 0, FAILED, None, None)
    _append(sqlite_store, "failing", FetchFailedEvent(kind="timeout", message="again"))
    _append(sqlite_store, "recovered", SourceRecovered(failures=1))
    ledger.record("recovered", at(5), 200, UNCHANGED, None, None)
    at(6)
    with serve(sqlite_store) as served:
        rows = _rows(_viewer(served).get("/").text)

    def iso(minutes: int) -> str:
        return (T0 + timedelta(minutes=minutes)).isoformat() + "Z"

    failing = rows["failing"]
    assert _cell(failing, "state") == "failing"
    assert _cell(failing, "failing-since") == iso(1)  # the streak's first failure
    assert _cell(failing, "last-checked") == iso(5)
    assert _cell(failing, "next-due") == iso(15)  # the last check plus 10 minutes
    paused = rows["paused"]
    assert _cell(paused, "next-due") == "—" and _cell(paused, "failing-since") == "—"
    assert _cell(paused, "last-checked") == iso(2)
    assert _cell(rows["overdue"], "next-due") == "due now"  # checked 6 minutes ago, every 1
    assert _cell(rows["fresh"], "next-due") == "due now"  # never checked
    assert _cell(rows["fresh"], "last-checked") == "—"
    assert _cell(rows["recovered"], "failing-since") == "—"
    assert _cell(rows["recovered"], "state") == "active"
    assert _cell(rows["recovered"], "next-due") == iso(15)


def test_the_board_needs_a_viewer(sqlite_store) -> None:
    with serve(sqlite_store) as served:
        anonymous = Client(served.url)
        assert anonymous.get("/?state=failing", allow_redirects=False).status_code == 303
        assert anonymous.get("/?fragment=rows", allow_redirects=False).status_code == 303
        token = served.token("bot", "viewer")
        answer = anonymous.get("/?fragment=rows", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and 'id="board-rows"' in answer.text


def test_the_board_columns_of_an_upgraded_store_equal_a_rebuilt_one(
        store) -> None:  # type: ignore[no-untyped-def]
    """Migration 0009 fills the new columns from the log as `rebuild` would."""
    _fill(store)
    _append(store, "press", FetchFailedEvent(kind="timeout", message="x"))
    _append(store, "decree", FetchFailedEvent(kind="timeout", message="x"),
            SourceRecovered(failures=1), FetchFailedEvent(kind="timeout", message="y"))
    live = table_rows(store.engine, sources)
    migrate.downgrade(store.engine, "0008")
    migrate.upgrade(store.engine)
    assert table_rows(store.engine, sources) == live
    projections.rebuild(store.engine)
    assert table_rows(store.engine, sources) == live
    by_name = {row.name: row for row in list_sources(store.engine, include_removed=True)}
    assert by_name["press"].last_significance == "high"
    assert by_name["press"].failing_since is not None
    assert by_name["decree"].failing_since == store.streak("decree", "FetchFailed", (
        "SourceRegistered", "BaselineImported", "VersionCaptured", "SourceRecovered",
        "DocumentRemoved"))[0]  # type: ignore[index]
    assert by_name["quiet"].failing_since is None and by_name["quiet"].last_significance is None
