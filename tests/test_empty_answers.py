"""An empty answer is not an edit: `{}` or an item with an empty body from the gov.kz
API is a failure (`parse`, `empty`), never "every paragraph removed"; a document
really emptied is a change once it is seen on consecutive checks, as a removal is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_faults import FaultServer, Reply

from monitor.alerts import Dispatcher
from monitor.catalog import register
from monitor.config import AlertConfig, Config, SourceConfig
from monitor.diff import Change
from monitor.replica.webhook_sink import SECRET

CREATED = "2026-03-03T10:00:00.000+05:00"
PARAGRAPHS = ["The commission approved 12 decisions.", "Minutes will follow next week.",
              "The next meeting is in June."]


def _types(store, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream(name)]


def _changes(store, name: str) -> list[Change]:  # type: ignore[no-untyped-def]
    return [Change.from_dict(e.data["change"]) for e in store.read_stream(name)
            if e.type == "ChangeDetected"]


@pytest.fixture
def article(store, replica) -> str:  # type: ignore[no-untyped-def]
    url = replica.add_article("mfa", 31, title="Decisions", paragraphs=PARAGRAPHS,
                              created_date=CREATED)
    register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
    return "doc"


@pytest.fixture
def alerts(store, receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dispatcher]:
    """A webhook channel; run_once() delivers what the log holds to `receiver`."""
    monkeypatch.setenv("TEST_EMPTY_SECRET", SECRET)
    channel = AlertConfig("desk", "webhook", {"url": receiver.url, "secret_env":
                                              "TEST_EMPTY_SECRET", "timeout": "5s"})
    yield Dispatcher(store, Config(path=None, database_url="", alerts=(channel,)))


def test_an_empty_object_from_the_api_is_a_parse_failure_and_nothing_alerts(
    store, replica, checker, article: str, alerts: Dispatcher, receiver
) -> None:
    assert checker.check(article).outcome == "captured"
    replica.broken_answer = {}
    failed = checker.check(article)
    assert failed.outcome == "failed" and failed.detail.startswith("parse"), failed.detail
    alerts.run_once()
    assert receiver.ids() == []

    replica.broken_answer = None  # the API recovers: the same text, nothing new recorded
    assert checker.check(article).outcome == "unchanged"
    assert _types(store, article) == ["SourceRegistered", "VersionCaptured", "FetchFailed",
                                      "SourceRecovered"]
    replica.edit_article(31, "en", paragraphs=[PARAGRAPHS[0].replace("12", "13"),
                                               *PARAGRAPHS[1:]])
    assert checker.check(article).outcome == "changed"
    alerts.run_once()
    assert len(receiver.ids()) == 1  # the channel works: the real edit alerted, alone


def test_an_item_with_an_empty_body_is_a_failure_and_recovery_records_nothing(
    store, replica, checker, article: str, alerts: Dispatcher, receiver
) -> None:
    checker.check(article)
    replica.edit_article(31, "en", body_html="")
    failed = checker.check(article)
    assert failed.outcome == "failed" and failed.detail.startswith("empty"), failed.detail
    assert "3 paragraphs" in failed.detail
    replica.edit_article(31, "en", paragraphs=PARAGRAPHS)
    assert checker.check(article).outcome == "unchanged"
    assert "ChangeDetected" not in _types(store, article)
    assert _types(store, article).count("VersionCaptured") == 1
    alerts.run_once()
    assert receiver.ids() == []


def test_a_document_emptied_for_good_is_a_change_once_seen_three_checks_in_a_row(
    store, replica, checker, article: str, alerts: Dispatcher, receiver
) -> None:
    checker.check(article)
    replica.edit_article(31, "en", body_html="<p> </p>")
    outcomes = [checker.check(article).outcome for _ in range(2)]
    assert outcomes == ["failed", "failed"]  # each recorded: the confirmation counts them
    alerts.run_once()
    assert receiver.ids() == []
    assert checker.check(article).outcome == "changed"
    [change] = _changes(store, article)
    assert [h.kind for h in change.hunks] == ["paragraph_removed"] * 3
    alerts.run_once()
    assert len(receiver.ids()) == 1
    assert checker.check(article).outcome == "unchanged"  # the empty text is the version now


def test_a_failure_between_empty_answers_starts_the_confirmation_again(
    store, replica, checker, article: str
) -> None:
    checker.check(article)
    replica.edit_article(31, "en", body_html="")
    checker.check(article)
    replica.broken_answer = {}
    assert checker.check(article).detail.startswith("parse")
    replica.broken_answer = None
    assert [checker.check(article).outcome for _ in range(3)] == ["failed", "failed", "changed"]


def test_an_empty_list_and_a_list_of_no_articles_are_failures_never_removals(
    store, replica, checker
) -> None:
    for n in range(3):
        replica.add_article("mfa", 40 + n, title=f"Release {n}", paragraphs=["Text."],
                            created_date=f"2026-03-0{n + 1}T10:00:00.000+05:00")
    register(store, SourceConfig(name="list", url=replica.list_page_url("mfa"),
                                 kind="govkz-list", interval_seconds=60))
    assert checker.check("list").outcome == "captured"
    replica.broken_answer = []
    assert checker.check("list").detail.startswith("empty")
    replica.broken_answer = [{"status": "maintenance"}]
    assert checker.check("list").detail.startswith("parse")
    replica.broken_answer = None
    assert checker.check("list").outcome == "unchanged"
    assert "ChangeDetected" not in _types(store, "list")


def test_list_entries_without_a_title_are_a_parse_failure_never_news(
    store, replica, checker, alerts: Dispatcher, receiver
) -> None:
    for n in range(3):
        replica.add_article("mfa", 40 + n, title=f"Release {n}", paragraphs=["Text."],
                            created_date=f"2026-03-0{n + 1}T10:00:00.000+05:00")
    register(store, SourceConfig(name="list", url=replica.list_page_url("mfa"),
                                 kind="govkz-list", interval_seconds=60))
    assert checker.check("list").outcome == "captured"
    before = len(store.read_stream("list"))
    for broken in ([{"id": 1}], [{"id": 1, "title": "  "}],
                   [{"id": 40, "title": "Release 0"}, {"id": 1}]):
        replica.broken_answer = broken
        failed = checker.check("list")
        assert failed.outcome == "failed" and failed.detail.startswith("parse"), failed.detail
    replica.broken_answer = None  # the API recovers: nothing new was published
    assert checker.check("list").outcome == "unchanged"
    new = [e.type for e in store.read_stream("list")][before:]
    assert "VersionCaptured" not in new and "DocumentPublished" not in new, new
    assert "ChangeDetected" not in _types(store, "list")
    alerts.run_once()
    assert receiver.ids() == []


def test_a_selected_element_emptied_on_an_html_page_is_confirmed_before_it_is_a_change(
    store, checker
) -> None:
    page = "<html><body><article>{}</article><p>Footer.</p></body></html>"
    with FaultServer() as server:
        server.route("/notice", Reply.page(page.format("<p>Decision 12 is approved.</p>")))
        register(store, SourceConfig(name="notice", url=server.url("/notice"), kind="html",
                                     interval_seconds=60, selector="article"))
        checker.learn = False
        assert checker.check("notice").outcome == "captured"
        server.route("/notice", Reply.page(page.format("")))
        outcomes = [checker.check("notice").outcome for _ in range(3)]
    assert outcomes == ["failed", "failed", "changed"]
    assert [h.kind for c in _changes(store, "notice") for h in c.hunks] == ["paragraph_removed"]
