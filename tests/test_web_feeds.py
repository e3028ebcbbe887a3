"""Live Atom feeds of the web app: global, per source, per tag; their stable ids and
rel="self"; reading them with a token in the URL, or with nothing once an admin made
one public; hostile titles kept as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from change_story import HOSTILE_TITLE, Story
from web_helpers import Client, serve
from web_story import ATOM, copied_store, entry_ids, story_store

from monitor.store import EventStore


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("story")
    store, story = story_store(folder)
    store.engine.dispose()
    return folder / "monitor.db", story


@pytest.fixture
def recorded(template: tuple[Path, Story], tmp_path: Path):  # type: ignore[no-untyped-def]
    store = copied_store(template[0], tmp_path)
    yield store, template[1]
    store.engine.dispose()


def _get(url: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(url, timeout=10, allow_redirects=False, **kwargs)


def _self_link(feed: ET.Element) -> str | None:
    found = [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    return found[0] if len(found) == 1 else None


def test_the_global_feed_is_atom_with_a_stable_id_and_its_own_address_as_self(
    recorded: tuple[EventStore, Story]
) -> None:
    store, story = recorded
    with serve(store) as one, serve(store) as two:
        token = one.token("reader", "viewer")
        first = _get(f"{one.url}/feeds/all.atom?token={token}")
        again = _get(f"{one.url}/feeds/all.atom?token={token}")
        elsewhere = _get(f"{two.url}/feeds/all.atom?token={token}")
        other_host = _get(f"{one.url}/feeds/all.atom?token={token}",
                          headers={"Host": "monitor.example.org"})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/atom+xml")
    feeds = [ET.fromstring(r.text) for r in (first, again, elsewhere, other_host)]
    assert feeds[0].tag == f"{ATOM}feed"
    ids = {f.findtext(f"{ATOM}id") for f in feeds}
    assert len(ids) == 1 and ids.pop() == "urn:govkz-monitor:feed"
    assert _self_link(feeds[0]) == f"{one.url}/feeds/all.atom"  # the token is not repeated
    assert _self_link(feeds[2]) == f"{two.url}/feeds/all.atom"
    assert _self_link(feeds[3]) == "http://monitor.example.org/feeds/all.atom"
    assert entry_ids(first.text) == set(story.changes)
    entries = {e.findtext(f"{ATOM}id"): e for e in feeds[0].findall(f"{ATOM}entry")}
    press = entries[f"urn:govkz-monitor:event:{story.number_edit}"]
    alternate = [link.get("href") for link in press.findall(f"{ATOM}link")
                 if link.get("rel") == "alternate"]
    assert alternate == [f"{one.url}/sources/mfa-press/diff?from=1&to=2"]


def test_the_public_url_is_the_feeds_address_when_set(recorded: tuple[EventStore, Story]) -> None:
    store, _ = recorded
    with serve(store, public_url="https://monitor.example.kz/app") as served:
        token = served.token("reader", "viewer")
        feed = ET.fromstring(_get(f"{served.url}/feeds/all.atom?token={token}").text)
    assert _self_link(feed) == "https://monitor.example.kz/app/feeds/all.atom"
    links = {link.get("href") for link in feed.iter(f"{ATOM}link")}
    assert "https://monitor.example.kz/app/sources/mfa-press/diff?from=2&to=3" in links


def test_source_and_tag_feeds_hold_only_their_changes(recorded: tuple[EventStore, Story]) -> None:
    store, story = recorded
    with serve(store) as served:
        reader = Client(served.url)
        reader.headers["Authorization"] = f"Bearer {served.token('ivan', 'viewer')}"
        press = reader.get("/feeds/sources/mfa-press.atom")
        rights = reader.get("/feeds/tags/rights.atom")
        notice = reader.get("/feeds/tags/notice.atom")  # the tag given as a bare string
        nobody = reader.get("/feeds/tags/5.atom")  # options["tags"] = 5 is no tag
        missing = reader.get("/feeds/sources/no-such-source.atom")
    assert entry_ids(press.text) == {story.number_edit, story.title_edit}
    assert entry_ids(rights.text) == {story.number_edit, story.title_edit, story.hostile_edit}
    assert entry_ids(notice.text) == {story.untitled_edit}
    ids = {ET.fromstring(r.text).findtext(f"{ATOM}id") for r in (press, rights)}
    assert ids == {"urn:govkz-monitor:feed:source:mfa-press", "urn:govkz-monitor:feed:tag:rights"}
    assert _self_link(ET.fromstring(rights.text)) == f"{served.url}/feeds/tags/rights.atom"
    assert nobody.status_code == 404 and missing.status_code == 404


def test_a_token_in_the_url_reads_as_its_user_and_a_wrong_one_is_refused(
    recorded: tuple[EventStore, Story]
) -> None:
    store, _ = recorded
    with serve(store) as served:
        token = served.token("reader", "viewer")
        url = f"{served.url}/feeds/sources/mfa-press.atom"
        assert _get(f"{url}?token={token}").status_code == 200
        assert _get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        wrong = _get(f"{url}?token=gkm_not-a-token")
        assert wrong.status_code == 401 and "gkm_not-a-token" not in wrong.text
        assert _get(f"{url}?token=").status_code == 401
        assert _get(url).status_code == 401  # nothing at all, and not public
        from monitor.web.accounts.tokens import list_tokens, revoke_token

        revoke_token(store.engine, list_tokens(store.engine, "reader")[0].id)
        assert _get(f"{url}?token={token}").status_code == 401


def test_a_feed_an_admin_made_public_answers_with_no_login_and_only_that_one(
    recorded: tuple[EventStore, Story]
) -> None:
    store, story = recorded
    with serve(store) as served:
        admin = served.user("aigerim", "admin")
        editor = served.token("dana", "editor")
        anonymous = Client(served.url)
        assert anonymous.get("/feeds/tags/rights.atom").status_code == 401
        refused = requests.post(f"{served.url}/feeds/public", data={"feed": "tag:rights"},
                                headers={"Authorization": f"Bearer {editor}"}, timeout=10)
        assert refused.status_code == 403
        assert admin.get("/feeds/all.atom").status_code == 200  # a session reads feeds too
        made = admin.submit("/feeds/public", {"feed": "tag:rights", "public": "1"}, "/feeds",
                            allow_redirects=False)
        assert made.status_code == 303
        opened = anonymous.get("/feeds/tags/rights.atom")
        assert opened.status_code == 200 and story.hostile_edit in opened.text
        assert anonymous.get("/feeds/all.atom").status_code == 401
        assert anonymous.get("/feeds/sources/mfa-press.atom").status_code == 401
        assert anonymous.get("/feeds/tags/notice.atom").status_code == 401
        assert anonymous.get("/feeds", allow_redirects=False).status_code == 303  # the list is not
        bogus = admin.submit("/feeds/public", {"feed": "source:no-such-source"}, "/feeds")
        assert bogus.status_code == 400 and "no-such-source" in bogus.text
        admin.submit("/feeds/public", {"feed": "tag:rights", "public": "0"}, "/feeds")
        assert anonymous.get("/feeds/tags/rights.atom").status_code == 401


def test_hostile_titles_stay_text_in_the_feed(recorded: tuple[EventStore, Story]) -> None:
    store, story = recorded
    with serve(store) as served:
        reader = Client(served.url)
        reader.headers["Authorization"] = f"Bearer {served.token('ivan', 'viewer')}"
        raw = reader.get("/feeds/all.atom").text
        hostile_tag = reader.get("/feeds/tags/%3Cb%3Ehostile%3C%2Fb%3E.atom")
    assert "<script" not in raw.lower() and "\x1b" not in raw and "\u202e" not in raw
    feed = ET.fromstring(raw)
    titles = [e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")]
    assert any("<script>alert(1)</script> Decree" in t for t in titles)  # text, once parsed
    assert HOSTILE_TITLE not in raw
    assert hostile_tag.status_code == 200
    assert ET.fromstring(hostile_tag.text).findtext(f"{ATOM}title", "").endswith(
        "tagged <b>hostile</b>")
    assert entry_ids(hostile_tag.text) == {story.hostile_edit}


def test_the_feeds_page_lists_every_feed_and_explains_the_token(
    recorded: tuple[EventStore, Story]
) -> None:
    store, _ = recorded
    with serve(store) as served:
        viewer = Client(served.url)
        viewer.headers["Authorization"] = f"Bearer {served.token('ivan', 'viewer')}"
        page = viewer.get("/feeds")
        admin_page = served.user("aigerim", "admin").get("/feeds")
    assert page.status_code == 200
    for path in ("/feeds/all.atom", "/feeds/sources/mfa-press.atom", "/feeds/tags/rights.atom",
                 "/feeds/tags/%3Cb%3Ehostile%3C%2Fb%3E.atom"):
        assert f'href="{path}"' in page.text
    assert f"{served.url}/feeds/all.atom?token=" in page.text
    assert "<b>hostile</b>" not in page.text and "&lt;b&gt;hostile&lt;/b&gt;" in page.text
    assert 'action="/feeds/public"' not in page.text  # a viewer marks nothing
    assert 'action="/feeds/public"' in admin_page.text


def test_every_route_here_names_its_role_and_only_feeds_may_be_public(tmp_path: Path) -> None:
    from fastapi.routing import APIRoute

    from monitor.config import Config
    from monitor.store import migrate, open_store
    from monitor.web.app import create_app

    store = open_store(f"sqlite:///{tmp_path / 'm.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    app = create_app(Config(path=None, database_url=str(store.engine.url)), store)
    mine = ("/feeds", "/report", "/admin", "/account")
    needs = {}
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith(mine):
            calls = [d.call for d in route.dependant.dependencies if hasattr(d.call, "role")]
            assert len(calls) == 1, route.path
            needs[(route.path, *sorted(route.methods))] = (
                calls[0].role, getattr(calls[0], "public_feed", False))  # type: ignore[union-attr]
    store.engine.dispose()
    assert {k: v for k, v in needs.items() if v[1]} == {
        ("/feeds/all.atom", "GET"): ("viewer", True),
        ("/feeds/sources/{source}.atom", "GET"): ("viewer", True),
        ("/feeds/tags/{tag:path}.atom", "GET"): ("viewer", True),
    }
    assert needs[("/feeds/public", "POST")] == ("admin", False)
    assert all(v == ("admin", False) for k, v in needs.items() if k[0].startswith("/admin"))
    assert needs[("/report.html", "GET")] == ("viewer", False)
    assert needs[("/account/password", "POST")] == ("viewer", False)
