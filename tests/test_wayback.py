"""The `wayback` channel: a public archive copy of every changed page, recorded in the
log and shown wherever the change is shown.

Real parts: a check of a gov.kz replica page records the change, the dispatcher sends
it to a loopback fake of the Internet Archive's Save Page Now 2 API
(monitor/replica/archive_api.py), which checks the keys; SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from change_story import assert_valid
from cli_helpers import monitor
from conftest import fast_config
from test_alerts import SECRET_ENV, config, register, webhook
from test_alerts import append as append_events
from test_alerts import change as edit

from monitor.alerts import Dispatcher
from monitor.catalog import register as register_source
from monitor.clock import ManualClock
from monitor.config import SourceConfig
from monitor.errors import ConfigError, FetchFailed
from monitor.events import (
    ArchiveCopyRecorded,
    DocumentPublished,
    DocumentRemoved,
    FetchFailedEvent,
    SourceRegistered,
)
from monitor.failures import FailureLog
from monitor.replica.archive_api import ACCESS_KEY, SECRET_KEY, FakeArchive
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore
from monitor.store.queries import source_by_stream

ACCESS_ENV, SECRET_KEY_ENV = "TEST_WAYBACK_ACCESS", "TEST_WAYBACK_SECRET"
KEYS = {ACCESS_ENV: ACCESS_KEY, SECRET_KEY_ENV: SECRET_KEY, SECRET_ENV: SECRET}
PARAGRAPHS = ["The ministry held a briefing on 14 July 2026.", "3 questions were discussed."]


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def archive() -> Iterator[FakeArchive]:
    with FakeArchive() as running:
        yield running


def wayback(fake: FakeArchive, name: str = "archive", **settings: Any) -> dict[str, Any]:
    return {"name": name, "kind": "wayback", "api_url": fake.url, "access_key_env": ACCESS_ENV,
            "secret_key_env": SECRET_KEY_ENV, "poll": "10ms", "wait": "5s", "timeout": "5s",
            **settings}


def copies(store: EventStore) -> list[Any]:
    return [e for e in store.read_all() if e.type == "ArchiveCopyRecorded"]


def run(db_url: str, tmp_path: Path, *args: str) -> Any:
    return monitor(*args, cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url, **KEYS})


def test_a_checked_change_is_copied_recorded_and_shown_in_reports_and_later_alerts(
        store: EventStore, replica: Any, checker: Any, archive: FakeArchive,
        receiver: WebhookReceiver, db_url: str, tmp_path: Path) -> None:
    url = replica.add_article("mfa", 77, title="Briefing", paragraphs=PARAGRAPHS,
                              created_date="2026-07-14T11:58:00.000+05:00")
    register_source(store, SourceConfig(name="brief", url=url, kind="govkz",
                                        interval_seconds=60))
    assert checker.check("brief").outcome == "captured"
    replica.edit_article(77, "en", paragraphs=[PARAGRAPHS[0], "4 questions were discussed."])
    assert checker.check("brief").outcome == "changed"

    # The archive channel first, so the webhook's alert is built after the copy exists.
    dispatcher = Dispatcher(store, config(wayback(archive), webhook(receiver)))
    summary = dispatcher.run_once()
    assert (summary.delivered, summary.retrying, summary.dead) == (2, 0, 0)

    [asked] = archive.captures
    assert asked.url == url  # the page of the change, as checked
    assert asked.authorization == f"LOW {ACCESS_KEY}:{SECRET_KEY}"
    [copy] = copies(store)
    [change] = [e for e in store.read_stream("brief") if e.type == "ChangeDetected"]
    stamp = copy.data["archived_at"]
    assert copy.stream_id == "brief"
    assert copy.data["archive_url"] == f"{archive.url}/web/{stamp}/{url}"
    assert copy.data["change_event_id"] == change.event_id
    assert copy.data["document_version"] == 2 and copy.data["job_id"] == asked.job_id
    assert copy.position > change.position

    [hook] = receiver.received
    assert hook.json()["data"]["links"]["archive"] == copy.data["archive_url"]

    reported = run(db_url, tmp_path, "report", "--format", "json")
    assert reported.code == 0, reported.err
    [entry] = reported.json()["changes"]
    assert entry["links"]["archive"] == copy.data["archive_url"]
    assert_valid(entry, "change.schema.json")
    for fmt, shown in (("text", f"archived at {copy.data['archive_url']}"),
                       ("markdown", f"**Archived:** <{copy.data['archive_url']}>"),
                       ("html", f'href="{copy.data["archive_url"]}"')):
        out = run(db_url, tmp_path, "report", "--format", fmt).out
        assert shown in out, fmt

    # The copy is in the chain and the projections still replay; checks carry on.
    verified = run(db_url, tmp_path, "verify")
    assert verified.code == 0, verified.out
    listed = run(db_url, tmp_path, "events").out
    assert f"ArchiveCopyRecorded  copy of {url} at {copy.data['archive_url']}" in listed
    assert checker.check("brief").outcome == "unchanged"
    assert dispatcher.run_once().enqueued == 0 and len(archive.captures) == 1

    # An evidence bundle of the document names the copy; its record is a signed event.
    from monitor.evidence.keys import create_key

    (tmp_path / "monitor.toml").write_text(
        '[evidence]\nkey_file = "keys/checkpoint.ed25519"\nwitness_file = "witness.jsonl"\n')
    create_key(tmp_path / "keys" / "checkpoint.ed25519")
    exported = run(db_url, tmp_path, "export", "brief", "-o", "brief.zip")
    assert exported.code == 0, exported.err
    with zipfile.ZipFile(tmp_path / "brief.zip") as bundle:
        readme = bundle.read("README.txt").decode()
        info = json.loads(bundle.read("bundle.json"))
    assert f"archived:  {copy.data['archive_url']} (version 2)" in readme
    assert info["archive_copies"] == [{"archive_url": copy.data["archive_url"], "version": 2}]
    checked = run(db_url, tmp_path, "verify-bundle", "brief.zip")
    assert checked.code == 0, checked.out
    assert f"public archive copy (version 2): {copy.data['archive_url']}" in checked.out


def test_refusals_and_failed_captures_are_retried_and_record_nothing_until_one_succeeds(
        store: EventStore, archive: FakeArchive) -> None:
    register(store)
    append_events(store, "mfa-2025-12-11-human-rights-penitentiary-en",
                  edit("First words.", "Second words."))
    clock = ManualClock()
    dispatcher = Dispatcher(store, config(wayback(archive, retry_base="1s", retry_max="1s")),
                            clock=clock)
    archive.fail_next(1, 429)
    assert dispatcher.run_once().retrying == 1
    assert copies(store) == [] and archive.captures == []

    archive.fail_captures = True  # the archive takes the job, then says it failed
    clock.advance(5)
    assert dispatcher.run_once().retrying == 1
    assert copies(store) == [] and len(archive.captures) == 1

    archive.fail_next(1, 503)
    clock.advance(5)
    assert dispatcher.run_once().retrying == 1
    assert copies(store) == []

    archive.fail_captures = False
    clock.advance(5)
    assert dispatcher.run_once().delivered == 1
    assert len(copies(store)) == 1 and len(archive.captures) == 2


def test_a_capture_still_pending_when_the_wait_runs_out_is_retried(
        store: EventStore) -> None:
    register(store)
    append_events(store, "mfa-2025-12-11-human-rights-penitentiary-en",
                  edit("First words.", "Second words."))
    with FakeArchive(pending_polls=1000) as slow:
        dispatcher = Dispatcher(store, config(wayback(slow, wait="200ms")))
        assert dispatcher.run_once().retrying == 1
    assert copies(store) == []


def test_wrong_keys_dead_letter_at_once_and_removals_are_not_copied(
        store: EventStore, archive: FakeArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "mfa-2025-12-11-human-rights-penitentiary-en"
    register(store)
    append_events(store, name, DocumentRemoved(status=404, confirmations=3))
    assert Dispatcher(store, config(wayback(archive))).run_once().delivered == 1
    assert archive.requests == 0  # a removed page has nothing left to copy

    register(store, "other")
    append_events(store, "other", edit("First words.", "Second words."))
    monkeypatch.setenv(SECRET_KEY_ENV, "wrong")
    summary = Dispatcher(store, config(wayback(archive, name="archive2"))).run_once()
    assert (summary.enqueued, summary.dead) == (1, 1)  # refused for good: not retried
    assert archive.unauthorized >= 1 and copies(store) == []


def test_settings_are_checked_at_start_up(store: EventStore, archive: FakeArchive) -> None:
    for bad, said in (({"access_key_env": None}, "access_key_env: is required"),
                      ({"wait": "5m"}, "wait: at most 90s"),
                      ({"api_url": "ftp://archive.example"}, "api_url: "),
                      ({"token": "x"}, "token: unknown key for a wayback channel")):
        settings = {k: v for k, v in {**wayback(archive), **bad}.items() if v is not None}
        with pytest.raises(ConfigError, match=said):
            Dispatcher(store, config(settings))


def test_alerts_test_checks_the_keys_and_copies_nothing(
        store: EventStore, archive: FakeArchive, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text(
        f'[database]\nurl = "{db_url}"\n\n[[alerts]]\nname = "archive"\nkind = "wayback"\n'
        f'api_url = "{archive.url}"\naccess_key_env = "{ACCESS_ENV}"\n'
        f'secret_key_env = "{SECRET_KEY_ENV}"\n', encoding="utf-8")
    ok = monitor("alerts", "test", "archive", cwd=tmp_path, env=KEYS)
    assert ok.code == 0, ok.err
    assert "keys accepted; 5 captures available now" in ok.out
    assert archive.captures == []
    bad = monitor("alerts", "test", "archive", cwd=tmp_path,
                  env={**KEYS, SECRET_KEY_ENV: "wrong"})
    assert bad.code == 1 and "HTTP 401 (are the keys right?)" in bad.err
    assert "wrong" not in bad.err


def test_a_copy_recorded_during_a_removal_confirmation_does_not_hide_it(
        store: EventStore, db_url: str) -> None:
    """The copy lands in the document's stream: a failure of another kind that
    interrupts a not-found streak must still be recorded, as without the copy."""
    name = "mfa-2025-12-11-human-rights-penitentiary-en"
    register(store)
    [edited] = [e for e in append_events(store, name, edit("First words.", "Second."))
                if e.type == "ChangeDetected"]
    append_events(store, name, FetchFailedEvent(kind="not_found", message="404", status=404))
    append_events(store, name, ArchiveCopyRecorded(
        archive_url="https://web.archive.org/web/20260101000000/https://x.kz/1",
        url="https://x.kz/1", change_event_id=edited.event_id, document_version=2))
    row = source_by_stream(store.engine, name)
    outcome, recorded, _ = FailureLog(store, fast_config(db_url)).record(
        row, FetchFailed("timeout", "no answer"))
    assert recorded == ("FetchFailed",), outcome


def test_a_publication_is_copied_and_a_hostile_address_is_recorded_encoded(
        store: EventStore, archive: FakeArchive, db_url: str, tmp_path: Path) -> None:
    hostile = 'https://www.akorda.kz/en/decrees/5?q="><script>alert(1)</script> №5'
    store.append("akorda-decrees", 0, [SourceRegistered(
        name="akorda-decrees", url="https://www.akorda.kz/en/decrees", kind="govkz-list",
        interval_seconds=900)])
    store.append("akorda-decrees", 1, [DocumentPublished(
        item_id="5", url=hostile, title="Decree No. 5")])
    assert Dispatcher(store, config(wayback(archive))).run_once().delivered == 1
    [asked] = archive.captures
    assert asked.url == hostile  # sent as listed: the archive copies what was published
    [copy] = copies(store)
    assert copy.data["document_version"] is None
    assert copy.data["archive_url"].endswith(
        "/https://www.akorda.kz/en/decrees/5?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
        "%20%E2%84%965")
    html = run(db_url, tmp_path, "report", "--format", "html").out
    assert copy.data["archive_url"] in html and "<script>alert(1)" not in html
