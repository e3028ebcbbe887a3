"""One shape for a change: report JSON and webhook bodies follow the JSON Schema
shipped in the package (monitor/schemas/), and describe a change with the same dict.

Real parts: the story is appended to SQLite and PostgreSQL stores, the report is
made as `monitor report --format json` makes it, and the webhook bodies are the
ones a loopback receiver got, signature checked.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from change_story import (
    ARCHIVED,
    NEW_TITLE,
    PRESS_URL,
    TITLE,
    Story,
    assert_valid,
    record_story,
    validator,
)
from cli_helpers import monitor
from jsonschema import Draft202012Validator
from test_alerts import SECRET_ENV, config, webhook

from monitor import classify
from monitor.alerts import Dispatcher
from monitor.alerts.alert import payload
from monitor.alerts.sample import sample_alert
from monitor.changes.data import MAX_HUNK_CHARS, hunk_data, where
from monitor.changes.schema import SCHEMAS, load_schema
from monitor.clock import ManualClock
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import FetchFailedEvent
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.report.filters import parse_filter
from monitor.report.formats import render_report
from monitor.report.gather import gather_report
from monitor.store import EventStore
from monitor.store.eventstore import utcnow

PUBLIC = "https://monitor.example.org/watch"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def story(store: EventStore) -> Story:
    return record_story(store)


def report_changes(store: EventStore, public_url: str | None = None) -> list[dict[str, Any]]:
    now = utcnow()
    report = gather_report(store.engine, parse_filter("1d", None, None, None, now), now,
                           public_url=public_url)
    changes: list[dict[str, Any]] = json.loads(render_report(report, "json"))["changes"]
    return changes


def webhook_bodies(store: EventStore, receiver: WebhookReceiver,
                   public_url: str | None = None) -> list[dict[str, Any]]:
    from dataclasses import replace

    setup = replace(config(webhook(receiver)), public_url=public_url)
    Dispatcher(store, setup).run_once()
    assert receiver.rejected == 0 and receiver.received
    return [r.json() for r in receiver.received]


# --- the schema files ---------------------------------------------------------------
def test_schema_files_ship_in_the_package_as_draft_2020_12_schemas() -> None:
    for name in SCHEMAS:
        shipped = files("monitor").joinpath("schemas", name)
        assert shipped.is_file(), name
        schema = load_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"schemas/*.json"' in pyproject  # in the wheel too, not only in the checkout


def test_schema_names_every_hunk_kind_the_classifier_has() -> None:
    kinds = load_schema("change.schema.json")["$defs"]["hunk_kind"]["enum"]
    assert sorted(kinds) == sorted(classify.KINDS)


# --- validation of real output ------------------------------------------------------
def test_report_json_follows_the_change_schema(store: EventStore, story: Story) -> None:
    changes = report_changes(store)
    assert [c["event_id"] for c in changes] == story.changes
    for change in changes:
        assert_valid(change, "change.schema.json")
    by_id = {c["event_id"]: c for c in changes}
    number = by_id[story.number_edit]
    assert (number["from_version"]["number"], number["to_version"]["number"]) == (1, 2)
    assert number["from_version"]["raw_hash"] is None  # a baseline keeps no bytes
    assert len(number["to_version"]["raw_hash"]) == 64
    assert number["from_version"]["text_hash"] != number["to_version"]["text_hash"]
    assert by_id[story.published]["url"] == "https://www.akorda.kz/en/decrees/5"
    assert by_id[story.removed]["hunks"] == []


def test_every_webhook_body_follows_the_webhook_schema(
    store: EventStore, story: Story, receiver: WebhookReceiver
) -> None:
    from monitor.events import SourceRegistered

    store.append("mfa-down", 0, [SourceRegistered(
        name="mfa-down", url="https://www.gov.kz/down", kind="govkz", interval_seconds=60)])
    store.append("mfa-down", 1, [FetchFailedEvent(kind="timeout", message="no answer")])
    from dataclasses import replace

    setup = replace(config(webhook(receiver, failing_after="0s")), public_url=PUBLIC)
    Dispatcher(store, setup).run_once()
    bodies = [r.json() for r in receiver.received]
    assert sorted({b["type"] for b in bodies}) == [
        "change.detected", "document.published", "document.removed", "source.failing"]
    for body in bodies:
        assert_valid(body, "webhook.schema.json")
    assert_valid(payload(sample_alert()), "webhook.schema.json")


def test_schema_refuses_the_old_shapes(store: EventStore, story: Story) -> None:
    change = report_changes(store)[0]
    old_ops = {**change, "hunks": [{**change["hunks"][0], "ops": [["replace", "120", "150"]]}]}
    old_versions = {**change, "from_version": 1, "to_version": 2}
    for wrong in (old_ops, old_versions, {**change, "source": "mfa-press"}):
        assert list(validator("change.schema.json").iter_errors(wrong))


# --- one dict for one change ----------------------------------------------------------
@pytest.mark.parametrize("public_url", [None, PUBLIC])
def test_report_json_and_webhook_describe_each_change_identically(
    store: EventStore, story: Story, receiver: WebhookReceiver, public_url: str | None
) -> None:
    reported = {c["event_id"]: c for c in report_changes(store, public_url)}
    sent = {b["data"]["event_id"]: b["data"] for b in webhook_bodies(store, receiver, public_url)}
    assert set(sent) == set(reported) == set(story.changes)
    for event_id, data in sent.items():
        assert data == reported[event_id], event_id


def test_links_point_to_the_web_app_when_public_url_is_set_and_to_commands_always(
    store: EventStore, story: Story
) -> None:
    plain = {c["event_id"]: c["links"] for c in report_changes(store)}
    web = {c["event_id"]: c["links"] for c in report_changes(store, PUBLIC)}
    assert plain[story.title_edit] == {
        "source": PRESS_URL,
        "commands": {"history": "monitor history mfa-press",
                     "diff": "monitor diff mfa-press --from 2 --to 3"}}
    assert web[story.title_edit]["diff"] == f"{PUBLIC}/sources/mfa-press/diff?from=2&to=3"
    assert web[story.title_edit]["history"] == f"{PUBLIC}/sources/mfa-press"
    assert web[story.title_edit]["commands"] == plain[story.title_edit]["commands"]
    assert plain[story.removed]["commands"]["show"] == "monitor show mfa-archive@1"
    assert "diff" not in web[story.removed] and "diff" not in web[story.published]


def test_a_removal_carries_the_last_version_and_its_whole_text(
    store: EventStore, story: Story
) -> None:
    removed = {c["event_id"]: c for c in report_changes(store)}[story.removed]
    assert removed["title"] == "Archived statement"
    assert removed["from_version"]["number"] == 1
    assert removed["from_version"]["published"] == "2025-10-01"
    assert removed["from_version"]["captured_at"].endswith("Z")
    assert removed["to_version"] is None
    assert removed["removed"] == {"status": 404, "confirmations": 3,
                                  "judged_by": "http_404", "said": "not found (HTTP 404)",
                                  "evidence": {"final_url": None, "status": None,
                                               "phrase": None, "redirects": []},
                                  "last_text": "\n\n".join(ARCHIVED.paragraphs),
                                  "last_text_truncated": False}


def test_a_title_change_shows_in_the_versions_and_as_a_title_hunk(
    store: EventStore, story: Story
) -> None:
    edit = {c["event_id"]: c for c in report_changes(store)}[story.title_edit]
    assert edit["title"] == NEW_TITLE
    assert (edit["from_version"]["title"], edit["to_version"]["title"]) == (TITLE, NEW_TITLE)
    (title,) = [h for h in edit["hunks"] if h["kind"] == "title"]
    assert (title["old"], title["new"], title["where"]) == (TITLE, NEW_TITLE, "title")
    assert title["location"] == {"field": "title", "old_paragraph": None,
                                 "new_paragraph": None}


# --- hunks -------------------------------------------------------------------------
def test_hunk_locations_are_1_based_data_with_a_where_for_people() -> None:
    old = Document("T", None, ("Intro.", "Moved paragraph.", "Kept one.", "Kept two.",
                               "The budget was discussed at length."))
    new = Document("T", None, ("Intro.", "Kept one.", "Kept two.", "Moved paragraph.",
                               "Visas are issued in Astana."))
    found = {h.kind: h for h in diff_documents(old, new).hunks}
    moved = hunk_data(found["paragraph_moved"])
    assert moved["location"] == {"field": "body", "old_paragraph": 2, "new_paragraph": 4}
    assert moved["where"] == "paragraph 2 → 4" == where(found["paragraph_moved"])
    added = hunk_data(found["paragraph_added"])
    assert added["location"] == {"field": "body", "old_paragraph": None, "new_paragraph": 5}
    removed = hunk_data(found["paragraph_removed"])
    assert removed["location"] == {"field": "body", "old_paragraph": 5, "new_paragraph": None}
    assert removed["where"] == "paragraph 5 of the previous version"


def test_ops_rebuild_both_texts_and_a_huge_hunk_is_cut_without_ops() -> None:
    (hunk,) = diff_documents(Document(None, None, ("It was 100 tenge.",)),
                             Document(None, None, ("It is 200 tenge.",))).hunks
    data = hunk_data(hunk)
    assert "".join(op["old"] for op in data["ops"]) == data["old"] == "It was 100 tenge."
    assert "".join(op["new"] for op in data["ops"]) == data["new"] == "It is 200 tenge."
    assert {"op": "replace", "old": "100", "new": "200"} in data["ops"]
    long = "word " * (MAX_HUNK_CHARS // 8)
    (big,) = diff_documents(Document(None, None, (long + "100.",)),
                            Document(None, None, (long + "200.",))).hunks
    cut = hunk_data(big)
    assert cut["truncated"] and cut["ops"] == []
    assert len(cut["old"]) + len(cut["new"]) == MAX_HUNK_CHARS


# --- configuration -------------------------------------------------------------------
@pytest.mark.parametrize("value", ["ftp://example.org", "monitor.example.org",
                                   "https://example.org/?x=1", "42"])
def test_public_url_must_be_an_http_url_without_a_query(tmp_path: Path, value: str) -> None:
    path = tmp_path / "monitor.toml"
    shown = json.dumps(value) if not value.isdigit() else value
    path.write_text(f"[web]\npublic_url = {shown}\n", encoding="utf-8")
    result = monitor("--config", str(path), "sources", cwd=tmp_path)
    assert result.code == 2
    assert "web.public_url:" in result.err and "is not an http(s) URL" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_report_command_builds_links_on_the_configured_public_url(
    store: EventStore, story: Story, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n[web]\npublic_url = "{PUBLIC}/"\n',
                    encoding="utf-8")
    result = monitor("--config", str(path), "report", "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    links = {c["event_id"]: c["links"] for c in result.json()["changes"]}
    assert links[story.number_edit]["diff"] == f"{PUBLIC}/sources/mfa-press/diff?from=1&to=2"


def test_a_digest_body_follows_the_webhook_schema_with_each_change_in_the_one_shape(
    store: EventStore, story: Story, receiver: WebhookReceiver
) -> None:
    from dataclasses import replace

    from monitor.events import SourceRegistered

    store.append("mfa-down", 0, [SourceRegistered(
        name="mfa-down", url="https://www.gov.kz/down", kind="govkz", interval_seconds=60)])
    store.append("mfa-down", 1, [FetchFailedEvent(kind="timeout", message="no answer")])
    clock = ManualClock()
    setup = replace(config(webhook(receiver, failing_after="0s", digest="1h")), public_url=PUBLIC)
    dispatcher = Dispatcher(store, setup, clock=clock)
    dispatcher.run_once()
    clock.advance(3600)
    dispatcher.run_once()
    (body,) = [r.json() for r in receiver.received]
    assert body["type"] == "digest"
    assert_valid(body, "webhook.schema.json")
    assert len(body["data"]["changes"]) == 6 and len(body["data"]["failing"]) == 1
    for change in body["data"]["changes"]:
        assert_valid(change, "change.schema.json")
    assert body["data"]["failing"][0]["source"]["name"] == "mfa-down"
    broken = {**body, "data": {**body["data"], "changes": [{"kind": "changed"}]}}
    assert list(validator("webhook.schema.json").iter_errors(broken))
