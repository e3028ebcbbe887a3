"""The Sources page: a URL previewed (fetched once by the real fetcher and adapter, on
real servers on 127.0.0.1) before it is saved as a SourceRegistered; pause, resume and
remove through the catalog; the address policy; editors only."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from http_faults import FaultServer, Reply
from sqlalchemy import func, select
from web_helpers import Served, serve

from monitor import adding
from monitor.config import Config, FetchConfig
from monitor.store import EventStore, migrate, open_store
from monitor.store.queries import get_source
from monitor.store.schema import events

FAST = FetchConfig(timeout=3.0, connect_timeout=1.0, retries=0, backoff=0.0,
                   min_delay_per_host=0.0, deadline=10.0, allow_private_networks=True)
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[EventStore]:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


def _config(store: EventStore, **fetch: object) -> Config:
    return Config(path=None, database_url=str(store.engine.url),
                  fetch=replace(FAST, **fetch))  # type: ignore[arg-type]


@pytest.fixture
def served(sqlite_store: EventStore) -> Iterator[Served]:
    with serve(sqlite_store, _config(sqlite_store)) as found:
        yield found


def _registered(store: EventStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)
                                .where(events.c.type == "SourceRegistered")).scalar_one())


def _error(page: str) -> str:
    found = ERROR.search(page)
    assert found, page[:2000]
    return found.group(1)


def test_preview_shows_what_a_replica_page_gives_and_saving_registers_it_once(
        served, replica) -> None:
    url = replica.add_article("mfa", 4242, lang="en", title="Budget hearing in the Mazhilis",
                              paragraphs=["The hearing took 3 hours.",
                                          "Deputies asked 17 questions."],
                              created_date="2026-02-03T10:00:00.000+05:00")
    editor = served.user("dana", "editor")
    page = editor.get("/sources")
    assert page.status_code == 200 and 'id="add-source"' in page.text
    shown = editor.submit("/sources/preview", {"url": url}, "/sources")
    assert shown.status_code == 200, shown.text[:1000]
    block = shown.text[shown.text.index('id="preview"'):]
    assert "Budget hearing in the Mazhilis" in block
    assert "The hearing took 3 hours." in block and "Deputies asked 17 questions." in block
    assert "2026-02-03" in block and "govkz" in block
    assert _registered(served.store) == 0  # a preview records nothing
    saved = editor.submit("/sources", {"url": url, "name": "", "kind": "", "interval": "",
                                       "ignore": ""}, "/sources", allow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/sources"
    assert _registered(served.store) == 1
    listed = editor.get("/sources")
    name = adding.add(served.store, served.config, adding.Wanted(urls=(url,))).existing[0]
    assert f"Watching {name} now." in listed.text and f'href="/sources/{name}"' in listed.text
    again = editor.submit("/sources", {"url": url}, "/sources", allow_redirects=False)
    assert again.status_code == 303 and _registered(served.store) == 1  # the same page
    assert f"already watched as {name} (nothing changed)" in editor.get("/sources").text


HOSTILE = """<!doctype html><html><head><title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
</head><body><nav class="menu"><a href="/">Home</a> <a href="/news">All the news</a></nav>
<main><article><h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>
<p class="meta"><span class="ago">Updated 2 hours ago</span></p>
<p>The report counts &lt;img src=x onerror=alert(2)&gt; in 12 regions of the country.</p>
<p>Officials will publish the full figures next week, with every region's numbers.</p>
<p>They said the figures for the second half of the year are still being checked.</p>
</article></main><footer class="site-footer">Copyright the agency, all rights kept</footer>
<div class="promo">Subscribe now</div></body></html>"""


def test_a_hostile_page_previews_as_text_with_what_one_load_shows(served) -> None:
    with FaultServer() as site:
        site.route("/hostile", Reply.page(HOSTILE))
        editor = served.user("dana", "editor")
        shown = editor.submit("/sources/preview", {"url": site.url("/hostile"),
                                                   "ignore": ".promo\nregex:\\d+ regions"},
                              "/sources")
    assert shown.status_code == 200, shown.text[:1000]
    assert "<script>alert" not in shown.text and "<img src=x" not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in shown.text
    block = shown.text[shown.text.index('id="preview"'):]
    assert "nav.menu" in block and "All the news" in block  # left out of the text
    assert "footer.site-footer" in block
    assert "Masked as a relative time" in block and "Updated 2 hours ago" in block
    assert "<code>.promo</code>: removes 1 element here" in block
    assert "one load cannot show them" in block


def test_a_loopback_url_is_refused_when_private_networks_are_not_allowed(sqlite_store) -> None:
    config = _config(sqlite_store, allow_private_networks=False)
    with FaultServer() as site, serve(sqlite_store, config) as served:
        site.route("/page", Reply.page("<h1>Inside</h1><p>Internal text here.</p>"))
        editor = served.user("dana", "editor")
        for path in ("/sources/preview", "/sources"):
            refused = editor.submit(path, {"url": site.url("/page")}, "/sources")
            assert refused.status_code == 400
            message = _error(refused.text)
            assert "127.0.0.1 is a loopback address" in message
            assert "allow_private_networks" in message
        localhost = editor.submit("/sources/preview",
                                  {"url": f"http://localhost:{site.port}/page"}, "/sources")
        assert localhost.status_code == 400 and "loopback" in _error(localhost.text)
        assert site.seen == []  # nothing was fetched
    assert _registered(sqlite_store) == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_input_and_unreadable_pages_give_one_line_messages(served) -> None:
    editor = served.user("dana", "editor")
    with FaultServer() as site:
        site.route("/big", Reply(200, b"", {"Content-Type": "text/html"},
                                 stream=50 * 1024 * 1024))
        site.route("/page", Reply.page("<h1>A page</h1><p>Some words of text on it.</p>"))
        site.route("/other", Reply.page("<h1>Another</h1><p>Other words of text.</p>"))
        assert editor.submit("/sources", {"url": site.url("/page"), "name": "taken"},
                             "/sources", allow_redirects=False).status_code == 303
        cases = [
            ({"url": "not a web address"}, 400, "URL"),
            ({"url": "ftp://example.org/x"}, 400, "http"),
            ({"url": site.url("/other"), "name": "taken"}, 400, "already watches"),
            ({"url": site.url("/other"), "name": "bad name!"}, 400, "name:"),
            ({"url": site.url("/other"), "interval": "soon"}, 400, "interval:"),
            ({"url": site.url("/other"), "kind": "telepathy"}, 400, "kind:"),
            ({"url": site.url("/other"), "ignore": "div[["}, 400, "ignore:"),
            ({"url": f"http://127.0.0.1:{_closed_port()}/x"}, 422, "127.0.0.1"),
            ({"url": site.url("/big")}, 422, "larger than"),
            ({"url": site.url("/missing")}, 422, "404"),
        ]
        for data, status, said in cases:
            # A bad setting is refused by saving too; a page is fetched by the preview only.
            paths = ("/sources/preview", "/sources") if status == 400 else ("/sources/preview",)
            for path in paths:
                answer = editor.submit(path, data, "/sources")
                assert answer.status_code == status, (data, answer.text[:500])
                message = _error(answer.text)
                assert said in message, (data, message)
                assert "\n" not in message and "Traceback" not in answer.text
                assert f'value="{data["url"]}"' in answer.text or "&" in data["url"]
    assert _registered(served.store) == 1


def test_pause_resume_and_remove_change_the_source_state(served) -> None:
    done = adding.add(served.store, served.config,
                      adding.Wanted(urls=("https://example.org/news/1",), name="agency-news"))
    assert done.added == ["agency-news"]
    editor = served.user("dana", "editor")
    page = editor.get("/sources")
    assert 'name="pause"' in page.text and 'name="remove"' in page.text

    def act(action: str) -> str:
        answer = editor.submit(f"/sources/agency-news/{action}", {}, "/sources",
                               allow_redirects=False)
        assert answer.status_code == 303
        return str(get_source(served.store.engine, "agency-news").state)

    assert act("pause") == "paused"
    assert 'name="resume"' in editor.get("/sources").text
    assert act("pause") == "paused"
    assert "was paused already; nothing recorded" in editor.get("/sources").text
    assert act("resume") == "active"
    assert "agency-news is checked again." in editor.get("/sources").text
    assert act("remove") == "removed"
    assert "agency-news is removed; its history is kept." in editor.get("/sources").text
    assert "agency-news" not in editor.get("/sources").text  # the message is shown once
    assert "agency-news" in editor.get("/sources?all=true").text
    assert act("resume") == "removed"
    assert "source 'agency-news' is removed" in html.unescape(editor.get("/sources").text)
    back = editor.submit("/sources", {"url": "https://example.org/news/1",
                                      "name": "agency-news"}, "/sources")
    assert back.status_code == 200 and '<p class="error" role="status">' in back.text
    assert "agency-news was removed earlier and stays removed" in back.text
    types = [row.type for row in served.store.read_stream("agency-news")]
    assert types == ["SourceRegistered", "SourcePaused", "SourceResumed", "SourceRemoved"]
    missing = editor.submit("/sources/nobody/pause", {}, "/sources")
    assert missing.status_code == 404


def test_a_viewer_sees_the_lists_and_is_refused_every_change(served) -> None:
    adding.add(served.store, served.config,
               adding.Wanted(urls=("https://example.org/news/2",), name="watched"))
    viewer = served.user("ivan", "viewer")
    for page in ("/sources", "/channels", "/deliveries"):
        shown = viewer.get(page)
        assert shown.status_code == 200, page
    assert 'id="add-source"' not in viewer.get("/sources").text
    assert 'name="pause"' not in viewer.get("/sources").text
    for path, data in (("/sources/preview", {"url": "https://example.org/x"}),
                       ("/sources", {"url": "https://example.org/x"}),
                       ("/sources/watched/pause", {}), ("/sources/watched/resume", {}),
                       ("/sources/watched/remove", {}), ("/deliveries/1/retry", {}),
                       ("/channels/any/test", {})):
        refused = viewer.submit(path, data, "/sources")
        assert refused.status_code == 403, path
        assert "needs the editor role" in refused.text
    assert get_source(served.store.engine, "watched").state == "active"
    assert _registered(served.store) == 1
