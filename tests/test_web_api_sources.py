"""The JSON API's sources, and who may do what: no token gets 401 on every route, a
viewer gets 403 on every change, an editor adds (one SourceRegistered, through
`monitor add`'s code, refusing internal addresses unless allowed), pauses, resumes,
changes the interval and removes (history kept)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from change_story import record_story
from fastapi.routing import APIRoute
from web_helpers import Served, serve

from monitor.config import Config, FetchConfig
from monitor.store import EventStore, open_store
from monitor.store.migrate import upgrade
from monitor.web.app import create_app

PAGE = "https://www.gov.kz/memleket/entities/mfa/press/news/details/77"


@contextmanager
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}", check_schema=False)
    upgrade(store.engine)
    try:
        yield store
    finally:
        store.engine.dispose()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with sqlite_store(tmp_path) as store:
        record_story(store)
        with serve(store) as found:
            yield found


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_routes(served: Served) -> list[tuple[str, str]]:
    app = create_app(served.config, served.store)
    return [(method, re.sub(r"\{[^}]+\}", "mfa-press", route.path))
            for route in app.routes if isinstance(route, APIRoute)
            and route.path.startswith("/api/v1/") for method in sorted(route.methods)]


def types_after(store: EventStore, position: int) -> list[str]:
    return [e.type for e in store.read_all(position)]


def test_every_api_route_answers_401_in_json_without_a_valid_token(served: Served) -> None:
    routes = api_routes(served)
    assert len(routes) >= 13
    for method, path in [*routes, ("GET", "/openapi.json")]:
        for headers in ({"Accept": "application/json"}, auth("gkm_not_a_token")):
            answer = requests.request(method, served.url + path, headers=headers,
                                      allow_redirects=False, timeout=10)
            if path == "/openapi.json" and "Authorization" not in headers:
                assert answer.status_code == 303  # like every page: to the login
                continue
            assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
            assert answer.headers["www-authenticate"] == "Bearer"
            assert answer.json() == {"detail": "sign in, or send Authorization: Bearer TOKEN"}
    for method, path in routes:  # a body FastAPI cannot read: still 401, not a description
        if method in ("POST", "PATCH"):
            answer = requests.request(method, served.url + path, data=b"{not json",
                                      headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 401, f"{method} {path}: {answer.text}"


def test_a_viewer_reads_but_may_not_add_change_or_remove(served: Served) -> None:
    viewer = auth(served.token("bot", "viewer"))
    base = served.url + "/api/v1/sources"
    before = served.store.last_position()
    for method, path, body in (("POST", "", {"url": PAGE}),
                               ("PATCH", "/mfa-press", {"state": "paused"}),
                               ("DELETE", "/mfa-press", None)):
        answer = requests.request(method, base + path, json=body, headers=viewer, timeout=10)
        assert answer.status_code == 403, f"{method}: {answer.text}"
        assert answer.json() == {"detail": "this needs the editor role; you are viewer"}
    assert served.store.last_position() == before
    listed = requests.get(base, headers=viewer, timeout=10)
    assert listed.status_code == 200
    assert "mfa-press" in [s["name"] for s in listed.json()["items"]]


def test_an_editor_adds_a_source_with_exactly_one_registration(store: EventStore) -> None:
    with serve(store) as served:
        editor = auth(served.token("ana", "editor"))
        before = store.last_position()
        added = requests.post(served.url + "/api/v1/sources", headers=editor, timeout=10,
                              json={"url": PAGE, "interval": "1h"})
        assert added.status_code == 201, added.text
        body = added.json()
        name = body["source"]["name"]
        assert body["created"] is True and body["source"]["url"] == PAGE
        assert body["source"]["interval_seconds"] == 3600 and body["source"]["versions"] == 0
        assert added.headers["location"] == f"/api/v1/sources/{name}"
        assert body["notes"] == [f"{name}: {PAGE} names no language (?lang=); watching its "
                                 "ru version (--language kk|en to choose)"]
        registered = store.read_all(before)
        assert [e.type for e in registered] == ["SourceRegistered"]
        assert registered[0].stream_id == name and registered[0].data["url"] == PAGE
        again = requests.post(served.url + "/api/v1/sources", headers=editor, timeout=10,
                              json={"url": PAGE + "#top"})
        assert again.status_code == 200 and again.json()["created"] is False
        assert again.json()["source"]["name"] == name
        assert store.last_position() == registered[0].position  # nothing more recorded
        shown = requests.get(served.url + f"/api/v1/sources/{name}", headers=editor,
                             timeout=10)
        assert shown.status_code == 200 and shown.json()["language"] == "ru"


def test_a_loopback_url_is_refused_unless_private_networks_are_allowed(tmp_path: Path) -> None:
    with sqlite_store(tmp_path) as store:
        config = Config(path=None, database_url=str(store.engine.url),
                        fetch=FetchConfig(allow_private_networks=False))
        with serve(store, config) as served:
            editor = auth(served.token("ana", "editor"))
            for url in ("http://127.0.0.1:8080/admin", "http://localhost/",
                        "http://[::ffff:169.254.169.254]/latest/meta-data/"):
                refused = requests.post(served.url + "/api/v1/sources", headers=editor,
                                        json={"url": url}, timeout=10)
                assert refused.status_code == 400, refused.text
                detail = refused.json()["detail"]
                assert "allow_private_networks" in detail and "\n" not in detail
            assert store.last_position() == 0
        with serve(store, replace(config, fetch=FetchConfig(allow_private_networks=True))) \
                as served:
            allowed = requests.post(served.url + "/api/v1/sources", headers=editor,
                                    json={"url": "http://127.0.0.1:8080/admin"}, timeout=10)
            assert allowed.status_code == 201, allowed.text


def test_bad_values_get_one_line_errors_and_record_nothing(served: Served) -> None:
    editor = auth(served.token("ana", "editor"))
    before = served.store.last_position()
    cases = [({"name": "x"}, 422, "url"),
             ({"url": PAGE, "colour": "red"}, 422, "colour"),
             ({"url": PAGE, "interval": "soon"}, 400, "interval: 'soon' is not a duration"),
             ({"url": PAGE, "interval": True}, 422, "interval"),
             ({"url": PAGE, "kind": "rss"}, 400, "kind: unknown kind 'rss'"),
             ({"url": PAGE, "language": "ru\r\n"}, 422, "language"),
             ({"url": PAGE, "name": "no/slash"}, 400, "name: "),
             ({"url": "ftp://example.org/x"}, 400, "not an http(s) URL"),
             ({"url": "https://user:pw@example.org/"}, 400, "user name or password")]
    for body, status, said in cases:
        answer = requests.post(served.url + "/api/v1/sources", headers=editor, json=body,
                               timeout=10)
        assert answer.status_code == status, (body, answer.text)
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and said in detail and "\n" not in detail, detail
        assert "Traceback" not in answer.text and "pw@" not in answer.text
    not_json = requests.post(served.url + "/api/v1/sources", headers=editor,
                             data=b"{not json", timeout=10)
    assert not_json.status_code == 422 and isinstance(not_json.json()["detail"], str)
    assert served.store.last_position() == before


def test_an_editor_pauses_resumes_and_changes_the_interval(served: Served) -> None:
    editor = auth(served.token("ana", "editor"))
    url = served.url + "/api/v1/sources/mfa-press"
    before = served.store.last_position()
    paused = requests.patch(url, headers=editor, timeout=10,
                            json={"state": "paused", "interval": "2h", "reason": "holiday"})
    assert paused.status_code == 200, paused.text
    assert paused.json()["state"] == "paused" and paused.json()["interval_seconds"] == 7200
    recorded = served.store.read_all(before)
    assert [e.type for e in recorded] == ["SourceReconfigured", "SourcePaused"]
    assert recorded[1].data["reason"] == "holiday (ana, API)"
    again = requests.patch(url, headers=editor, json={"state": "paused"}, timeout=10)
    assert again.status_code == 200 and served.store.last_position() == recorded[-1].position
    resumed = requests.patch(url, headers=editor, json={"state": "active"}, timeout=10)
    assert resumed.json()["state"] == "active"
    assert types_after(served.store, recorded[-1].position) == ["SourceResumed"]
    settled = served.store.last_position()
    for body in ({"interval": "0s"}, {"state": "gone"}, {"paused": True}):
        answer = requests.patch(url, headers=editor, json=body, timeout=10)
        assert answer.status_code == 422 and isinstance(answer.json()["detail"], str)
    same = requests.patch(url, headers=editor, json={"interval": 7200}, timeout=10)
    assert same.status_code == 200 and same.json() == resumed.json()
    assert requests.patch(url, headers=editor, json={}, timeout=10).json() == resumed.json()
    assert served.store.last_position() == settled  # nothing to change, nothing recorded
    missing = requests.patch(served.url + "/api/v1/sources/nope", headers=editor,
                             json={"state": "paused"}, timeout=10)
    assert missing.status_code == 404 and missing.json() == {"detail": "no source named 'nope'"}


def test_removing_a_source_records_it_and_keeps_its_history(served: Served) -> None:
    editor = auth(served.token("ana", "editor"))
    url = served.url + "/api/v1/sources/mfa-press"
    before = served.store.last_position()
    removed = requests.delete(url, headers=editor, timeout=10)
    assert removed.status_code == 200 and removed.json()["state"] == "removed"
    assert types_after(served.store, before) == ["SourceRemoved"]
    versions = requests.get(url + "/versions", headers=editor, timeout=10).json()["items"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    listed = requests.get(served.url + "/api/v1/sources", headers=editor, timeout=10).json()
    assert "mfa-press" not in [s["name"] for s in listed["items"]]
    gone = requests.get(served.url + "/api/v1/sources?state=removed", headers=editor,
                        timeout=10).json()
    assert [s["name"] for s in gone["items"]] == ["mfa-press"]
    back = requests.post(served.url + "/api/v1/sources", headers=editor, timeout=10,
                         json={"url": removed.json()["url"], "name": "mfa-press"})
    assert back.status_code == 409 and "stays removed" in back.json()["detail"]
    assert requests.patch(url, headers=editor, json={"state": "active"},
                          timeout=10).status_code == 409
    assert requests.delete(url, headers=editor, timeout=10).status_code == 200
    assert types_after(served.store, before) == ["SourceRemoved"]  # nothing twice


def test_sources_are_listed_in_pages_and_filtered(served: Served) -> None:
    viewer = auth(served.token("bot", "viewer"))
    names, cursor = [], None
    while True:
        page = requests.get(served.url + "/api/v1/sources", headers=viewer, timeout=10,
                            params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        names += [s["name"] for s in page.json()["items"]]
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert names == sorted(["mfa-press", "mfa-notice", "akorda-decrees", "mfa-archive",
                            "mfa-hostile"])
    lists = requests.get(served.url + "/api/v1/sources", headers=viewer, timeout=10,
                         params={"kind": "govkz-list"}).json()
    assert [s["name"] for s in lists["items"]] == ["akorda-decrees"]
    bad = requests.get(served.url + "/api/v1/sources", headers=viewer, timeout=10,
                       params={"state": "sleeping"})
    assert bad.status_code == 422 and "state" in bad.json()["detail"]
    hostile = requests.get(served.url + "/api/v1/sources/mfa-hostile", headers=viewer,
                           timeout=10)
    assert hostile.headers["content-type"] == "application/json"
    assert hostile.json()["title"].startswith("<script>")  # data, JSON-escaped; no page
    assert hostile.json()["links"]["page"] == "/sources/mfa-hostile"
