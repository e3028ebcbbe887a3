"""The JSON API's reads: versions with their hashes and texts, diffs between any two
versions, changes in the one change schema (validated with jsonschema against the
shipped schema and against the copy in /openapi.json), the event log paged by
position, deliveries without secrets, and search behind its guard."""

from __future__ import annotations

import hashlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from change_story import record_story, validator
from fastapi.routing import APIRoute
from http_faults import FaultServer, Reply
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from test_web_api_sources import auth, sqlite_store
from web_helpers import Served, serve

from monitor.alerts import Dispatcher
from monitor.changes.schema import load_schema
from monitor.config import AlertConfig, Config
from monitor.event_data import event_data
from monitor.replica.webhook_sink import SECRET
from monitor.store import EventStore
from monitor.store.queries import list_sources, list_versions, version_text
from monitor.web.app import create_app

HOOK_TOKEN = "HOOKTOKEN4242"
SECRET_ENV = "TEST_WEB_API_HOOK_SECRET"


@pytest.fixture(scope="module")
def story_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The story served once for the tests that only read it."""
    with sqlite_store(tmp_path_factory.mktemp("story")) as store:
        record_story(store)
        with serve(store) as found:
            yield found


@pytest.fixture
def served(story_served: Served) -> Served:
    return story_served


@pytest.fixture(scope="module")
def viewer(story_served: Served) -> dict[str, str]:
    return auth(story_served.token("reader", "viewer"))


def get(served: Served, headers: dict[str, str], path: str, **params: Any) -> requests.Response:
    return requests.get(served.url + path, headers=headers, params=params, timeout=10)


def every_page(served: Served, headers: dict[str, str], path: str, cursor: str,
               **params: Any) -> list[dict[str, Any]]:
    """The items of every page, following `next` until it is null."""
    items: list[dict[str, Any]] = []
    after: Any = None
    while True:
        page = get(served, headers, path, **params, **({cursor: after} if after else {}))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        after = page.json()["next"]
        if after is None:
            return items


def test_versions_carry_their_hashes_and_their_texts(served: Served, viewer: dict) -> None:
    versions = get(served, viewer, "/api/v1/sources/mfa-press/versions").json()
    assert [v["number"] for v in versions["items"]] == [1, 2, 3] and versions["next"] is None
    first, second = versions["items"][0], versions["items"][1]
    assert first["origin"] == "baseline" and first["raw_hash"] is None
    assert second["origin"] == "captured" and len(second["raw_hash"]) == 64
    assert first["captured_at"].endswith("Z")
    one = get(served, viewer, "/api/v1/sources/mfa-press/versions/3").json()
    assert one == versions["items"][2] and one["title"] == "Human rights conference in Astana"
    text = get(served, viewer, "/api/v1/sources/mfa-press/versions/3/text")
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(text.content).hexdigest() == one["text_hash"]
    assert "150 participants" in text.text
    hostile = get(served, viewer, "/api/v1/sources/mfa-hostile/versions/1/text")
    assert hostile.headers["content-type"].startswith("text/plain")
    assert "<script>alert(1)</script>" in hostile.text  # text, never served as a page
    paged = every_page(served, viewer, "/api/v1/sources/mfa-press/versions", "cursor", limit=1)
    assert [v["number"] for v in paged] == [1, 2, 3]


def test_unknown_sources_and_versions_are_404_and_bad_numbers_422(served: Served,
                                                                    viewer: dict) -> None:
    for path, status, said in (
            ("/api/v1/sources/nope", 404, "no source named 'nope'"),
            ("/api/v1/sources/nope/versions", 404, "no source named 'nope'"),
            ("/api/v1/sources/mfa-press/versions/9", 404, "has no version 9"),
            ("/api/v1/sources/mfa-press/versions/9/text", 404, "has no version 9"),
            ("/api/v1/sources/mfa-press/diff?from=1&to=9", 404, "has no version 9"),
            ("/api/v1/sources/mfa-press/versions/0", 422, "number"),
            ("/api/v1/sources/mfa-press/versions/99999999999999999999999", 422, "number"),
            ("/api/v1/sources/mfa-press/versions/x/text", 422, "number"),
            ("/api/v1/sources/mfa-press/diff?from=one", 422, "from"),
            ("/api/v1/changes?source=nope", 404, "no source named 'nope'"),
            ("/api/v1/changes?since=soon", 422, "since 'soon': use a period"),
            ("/api/v1/changes?since=999999999d", 422, "out of the range of dates"),
            ("/api/v1/changes?until=9999-12-31", 422, "out of the range of dates"),
            ("/api/v1/changes?source=", 422, "source"),
            ("/api/v1/changes?min_significance=huge", 422, "min_significance"),
            ("/api/v1/events?after=-1", 422, "after"),
            ("/api/v1/events?limit=100000", 422, "limit")):
        answer = get(served, viewer, path)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and said in detail and "\n" not in detail, (path, detail)


def test_the_diff_between_versions_1_and_3_shows_the_whole_number(served: Served,
                                                                  viewer: dict) -> None:
    diff = get(served, viewer, "/api/v1/sources/mfa-press/diff", **{"from": 1, "to": 3})
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert (body["from_version"], body["to_version"], body["source"]) == (1, 3, "mfa-press")
    ops = [op for hunk in body["hunks"] for op in hunk["ops"] if op["op"] != "equal"]
    assert {"op": "replace", "old": "120", "new": "150"} in ops
    assert not any(op["old"] in ("12", "1", "20") for op in ops)  # never a piece of it
    assert {h["kind"] for h in body["hunks"]} >= {"number", "title"}
    shipped = load_schema("change.schema.json")
    hunk = Draft202012Validator({"$ref": shipped["$id"] + "#/$defs/hunk"},
                                registry=Registry().with_resource(
                                    shipped["$id"], Resource.from_contents(shipped)))
    for each in body["hunks"]:
        hunk.validate(each)
    backwards = get(served, viewer, "/api/v1/sources/mfa-press/diff", **{"from": 3, "to": 1})
    assert {"op": "replace", "old": "150", "new": "120"} in [
        op for h in backwards.json()["hunks"] for op in h["ops"]]
    latest = get(served, viewer, "/api/v1/sources/mfa-press/diff").json()
    assert (latest["from_version"], latest["to_version"]) == (2, 3)


def test_changes_are_in_the_change_schema_and_page_without_gaps(store: EventStore) -> None:
    story = record_story(store)
    with serve(store) as served:
        viewer = auth(served.token("bot", "viewer"))
        whole = get(served, viewer, "/api/v1/changes").json()
        assert [c["event_id"] for c in whole["items"]] == story.changes
        assert whole["next"] is None
        schema = validator("change.schema.json")
        for change in whole["items"]:
            schema.validate(change)
        paged = every_page(served, viewer, "/api/v1/changes", "cursor", limit=2)
        assert paged == whole["items"]
        one = get(served, viewer, "/api/v1/sources/mfa-press/changes").json()["items"]
        assert [c["event_id"] for c in one] == [story.number_edit, story.title_edit]
        assert one == get(served, viewer, "/api/v1/changes", source="mfa-press").json()["items"]
        high = get(served, viewer, "/api/v1/changes", min_significance="high").json()["items"]
        assert [c["event_id"] for c in high] == [
            c["event_id"] for c in whole["items"] if c["significance"] == "high"]
        assert get(served, viewer, "/api/v1/changes", since="2999-01-01").json() == {
            "items": [], "next": None}
        assert len(get(served, viewer, "/api/v1/changes", since="1d").json()["items"]) == 6


def test_the_event_log_pages_by_position_exactly_once(store: EventStore) -> None:
    record_story(store)
    with serve(store) as served:
        viewer = auth(served.token("bot", "viewer"))
        log = [event_data(e) for e in store.read_all()]
        assert len(log) > 10
        paged = every_page(served, viewer, "/api/v1/events", "after", limit=4)
        assert paged == log  # every event, in order, once: no gap, no duplicate
        middle = log[5]["position"]
        rest = get(served, viewer, "/api/v1/events", after=middle, limit=1000).json()
        assert rest == {"items": log[6:], "next": None}
        assert get(served, viewer, "/api/v1/events", after=log[-1]["position"]).json() == {
            "items": [], "next": None}


def test_deliveries_are_listed_without_any_secret(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with sqlite_store(tmp_path) as store, FaultServer() as receiver:
        receiver.route(f"/hooks/{HOOK_TOKEN}", Reply(
            500, f"no such hook: /hooks/{HOOK_TOKEN}".encode(), {"Content-Type": "text/plain"}))
        record_story(store)
        channel = AlertConfig("newsroom", "webhook", {
            "url": receiver.url(f"/hooks/{HOOK_TOKEN}"), "secret_env": SECRET_ENV,
            "timeout": "2s"})
        config = Config(path=None, database_url=str(store.engine.url), alerts=(channel,))
        Dispatcher(store, config).run_once()
        with serve(store, config) as served:
            viewer = auth(served.token("bot", "viewer"))
            answer = get(served, viewer, "/api/v1/deliveries")
            assert answer.status_code == 200
            items = answer.json()["items"]
            assert len(items) == 6 and {d["state"] for d in items} <= {"pending", "retrying"}
            assert HOOK_TOKEN not in answer.text and SECRET not in answer.text
            assert "secret" not in answer.text.lower() and "claim_token" not in answer.text
            tried = [d for d in items if d["state"] == "retrying"]
            assert tried and all("500" in d["last_error"] for d in tried)
            assert all(d["channel"] == "newsroom" for d in items)
            assert get(served, viewer, "/api/v1/deliveries", state="retrying").json()[
                "items"] == tried
            ids = [d["id"] for d in items]
            assert ids == sorted(ids, reverse=True)
            paged = every_page(served, viewer, "/api/v1/deliveries", "cursor", limit=2)
            assert [d["id"] for d in paged] == ids
            assert get(served, viewer, "/api/v1/deliveries", state="dead").json()["items"] == []
            assert get(served, viewer, "/api/v1/deliveries", state="lost").status_code == 422


def _stand_in_search(store: EventStore) -> types.ModuleType:
    """The interface the search module (another branch) provides, answered by reading
    every stored text: enough to show the route passes the query, the paging and the
    source on, and gives the hits back as data."""
    module = types.ModuleType("monitor.search.query")

    def search(engine: Any, query: str, limit: int = 20, offset: int = 0,
               source: str | None = None) -> list[dict[str, Any]]:
        hits = []
        for row in list_sources(engine):
            for v in list_versions(engine, row.stream_id) if source in (None, row.name) else ():
                text = version_text(engine, row.stream_id, v.document_version)[1]
                if query in text:
                    hits.append({"source": row.name, "version": v.document_version,
                                 "captured_at": v.captured_at, "title": v.title,
                                 "passage": next(ln for ln in text.splitlines() if query in ln)})
        return hits[offset:offset + limit]

    module.search = search  # type: ignore[attr-defined]
    return module


def test_search_answers_503_until_its_module_is_there_then_passes_hits_on(
        served: Served, viewer: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "monitor.search.query", None)  # as if not installed
    missing = get(served, viewer, "/api/v1/search", q="participants")
    assert missing.status_code == 503
    assert missing.json() == {"detail": "search index not available"}
    monkeypatch.setitem(sys.modules, "monitor.search.query", _stand_in_search(served.store))
    found = get(served, viewer, "/api/v1/search", q="participants", limit=2)
    assert found.status_code == 200, found.text
    body = found.json()
    assert [(h["source"], h["version"]) for h in body["items"]] == [("mfa-press", 1),
                                                                  ("mfa-press", 2)]
    assert body["next"] == 2 and body["items"][0]["captured_at"].endswith("Z")
    rest = get(served, viewer, "/api/v1/search", q="participants", limit=2, offset=2).json()
    assert [h["version"] for h in rest["items"]] == [3] and rest["next"] is None
    hostile = get(served, viewer, "/api/v1/search", q="<script>", source="mfa-hostile")
    assert hostile.headers["content-type"] == "application/json"
    assert "<script>alert(1)</script>" in hostile.json()["items"][0]["passage"]
    assert get(served, viewer, "/api/v1/search", q="").status_code == 422
    assert get(served, viewer, "/api/v1/search", q="x", source="nope").status_code == 404


def test_openapi_lists_every_api_path_with_the_bearer_scheme(served: Served,
                                                             viewer: dict) -> None:
    answer = get(served, viewer, "/openapi.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    app = create_app(served.config, served.store)
    paths = {r.path for r in app.routes if isinstance(r, APIRoute)
             if r.path.startswith("/api/v1/")}
    assert set(document["paths"]) == paths and len(paths) >= 11
    assert document["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation_ids = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"bearer": []}], (method, path)
            assert operation["summary"] and operation["tags"], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids)) >= 13
    # The change schema inside the document is the shipped one: the API's changes
    # validate against it too.
    embedded = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": "#/components/schemas/Change", "components": document["components"]}
    Draft202012Validator.check_schema(embedded)
    change_page = document["components"]["schemas"]["ChangePage"]
    assert change_page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Change"}
    checker = Draft202012Validator(embedded)
    for change in get(served, viewer, "/api/v1/changes").json()["items"]:
        checker.validate(change)
    assert list(checker.iter_errors({"kind": "changed"}))  # a validator that can fail
