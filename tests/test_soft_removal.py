"""Removal that survives real sites: a redirect to the home page or the section index,
a signpost many removed pages lead to, a 200 page that says "not found", and gov.kz's
API answering null all count as "not found", confirmed on `not_found_confirmations`
checks like a 404; the removal says how it was judged, in the log, the alert and
`monitor history`."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cli_helpers import monitor
from http_faults import FaultServer, Reply
from jsonschema import Draft202012Validator

from monitor.alerts import Dispatcher
from monitor.catalog import register
from monitor.changes.schema import load_schema
from monitor.config import AlertConfig, Config, SourceConfig
from monitor.removal import judge_redirect, judge_text, removal_summary
from monitor.replica import GovkzReplica
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET
from monitor.store.mapper import to_event

ARTICLE = "/ru/memleket/entities/mfa/press/news/details/1001"
SECTION = "/ru/memleket/entities/mfa/press/news"
LONG = ("The ministry held a meeting with the delegation on the penitentiary reform and the "
        "results of the year. Twelve decisions were approved by the commission. ")


def _page(title: str, *paragraphs: str) -> Reply:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return Reply.page(f"<html><head><title>{title}</title></head><body><main><article>"
                      f"<h1>{title}</h1>{body}</article></main></body></html>")


ARTICLE_PAGE = _page("Decisions of the commission", LONG * 3, "Minutes will follow next week.")
HOME_PAGE = _page("Ministry of Foreign Affairs", "Welcome to the ministry's site. " * 20,
                  "Latest news, documents and contacts of the ministry. " * 10)


def _types(store, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream(name)]


def _removal(store, name: str):  # type: ignore[no-untyped-def]
    [event] = [e for e in store.read_stream(name) if e.type == "DocumentRemoved"]
    return event.event


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def alerts(store, receiver, smtp_sink, monkeypatch: pytest.MonkeyPatch) -> Dispatcher:
    """A webhook and an e-mail channel; run_once() delivers what the log holds."""
    monkeypatch.setenv("TEST_SOFT404_SECRET", SECRET)
    hook = AlertConfig("desk", "webhook", {"url": receiver.url, "secret_env":
                                           "TEST_SOFT404_SECRET", "timeout": "5s"})
    mail = AlertConfig("mail", "email", {"host": "127.0.0.1", "port": smtp_sink.port,
                                         "security": "none", "from": "monitor@example.org",
                                         "to": ["desk@example.org"], "timeout": "5s"})
    return Dispatcher(store, Config(path=None, database_url="", alerts=(hook, mail)))


def _text(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    assert plain is not None
    return str(message["Subject"]) + "\n" + plain.get_content()


def _one_removal_alert(alerts: Dispatcher, receiver, smtp_sink) -> tuple[dict, str]:  # type: ignore[no-untyped-def,type-arg]
    alerts.run_once()
    removed = [r.json() for r in receiver.received if r.json()["type"] == "document.removed"]
    assert len(removed) == 1, [r.json()["type"] for r in receiver.received]
    mails = [_text(m) for m in smtp_sink.messages if "removed" in str(m["Subject"])]
    assert len(mails) == 1
    return removed[0]["data"], mails[0]


def _html_source(store, site: FaultServer, name: str = "doc", path: str = ARTICLE) -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name=name, url=site.url(path), kind="html",
                                 interval_seconds=60))


def test_article_redirected_to_the_home_page_is_removed_after_three_checks_and_alerts_once(
    store, db_url: str, checker, site: FaultServer, alerts: Dispatcher, receiver, smtp_sink,
    tmp_path: Path
) -> None:
    site.route(ARTICLE, ARTICLE_PAGE)
    site.route("/ru", HOME_PAGE)
    _html_source(store, site)
    assert checker.check("doc").outcome == "captured"
    site.route(ARTICLE, Reply.redirect(site.url("/ru")))
    outcomes = [checker.check("doc").outcome for _ in range(4)]
    assert outcomes == ["failed", "failed", "removed", "failed"]
    assert "ChangeDetected" not in _types(store, "doc")  # the home page is no new version
    gone = _removal(store, "doc")
    assert gone.judged_by == "redirect_to_home"
    assert gone.evidence["final_url"] == site.url("/ru")
    assert gone.evidence["redirects"] == [site.url(ARTICLE)]

    data, mail = _one_removal_alert(alerts, receiver, smtp_sink)
    assert data["removed"]["judged_by"] == "redirect_to_home"
    assert data["removed"]["evidence"]["final_url"] == site.url("/ru")
    assert "redirected to the home page" in data["summary"]
    assert "redirected to the home page" in mail
    assert "Minutes will follow next week." in mail  # the text it last had
    Draft202012Validator(load_schema("change.schema.json")).validate(data)

    history = monitor("history", "doc", cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url})
    assert history.code == 0, history.err
    assert f"redirected to the home page {site.url('/ru')}" in history.out


def test_redirected_once_then_back_is_a_blip_not_a_removal(
    store, checker, site: FaultServer, alerts: Dispatcher, receiver, smtp_sink
) -> None:
    site.route(ARTICLE, ARTICLE_PAGE)
    site.route(SECTION, HOME_PAGE)
    _html_source(store, site)
    checker.check("doc")
    site.route(ARTICLE, Reply.redirect(site.url(SECTION)))
    blip = checker.check("doc")
    assert blip.outcome == "failed" and "section index" in blip.detail
    site.route(ARTICLE, ARTICLE_PAGE)
    assert checker.check("doc").outcome == "unchanged"
    site.route(ARTICLE, Reply.redirect(site.url(SECTION)))
    assert [checker.check("doc").outcome for _ in range(2)] == ["failed", "failed"]
    assert "DocumentRemoved" not in _types(store, "doc")  # the streak started again
    assert _types(store, "doc")[-4:] == ["FetchFailed", "SourceRecovered", "FetchFailed",
                                          "FetchFailed"]
    alerts.run_once()
    assert [r.json()["type"] for r in receiver.received] == []


def test_signpost_many_sources_are_redirected_to_counts_as_removed(
    store, checker, site: FaultServer
) -> None:
    site.route("/moved", _page("This document has moved", "See the new portal. " * 30))
    for n in (1, 2, 3):
        site.route(f"/a/{n}", _page(f"Article {n}", LONG * 2 + f"Number {n}."))
        _html_source(store, site, f"doc{n}", f"/a/{n}")
        checker.check(f"doc{n}")
    for n in (1, 2, 3):
        site.route(f"/a/{n}", Reply.redirect(site.url("/moved")))
    # The first two are read as new versions: nothing yet says the page is shared.
    assert [checker.check(f"doc{n}").outcome for n in (1, 2)] == ["changed", "changed"]
    outcomes = [checker.check("doc3").outcome for _ in range(3)]
    assert outcomes == ["failed", "failed", "removed"]
    assert _removal(store, "doc3").judged_by == "shared_signpost"


def test_gov_kz_not_found_page_answered_with_200_is_removed_after_three_checks(
    store, checker, alerts: Dispatcher, receiver, smtp_sink
) -> None:
    with GovkzReplica(prerendered=True, noise=False) as replica:
        url = replica.add_article("mfa", 77, lang="ru", title="Решения комиссии",
                                  paragraphs=[LONG, "Протокол будет опубликован."],
                                  created_date="2026-03-03T10:00:00.000+05:00")
        register(store, SourceConfig(name="doc", url=url, kind="html", interval_seconds=60))
        assert checker.check("doc").outcome == "captured"
        replica.soft_404_pages = True
        replica.remove_article(77)
        outcomes = [checker.check("doc").outcome for _ in range(3)]
    assert outcomes == ["failed", "failed", "removed"]
    gone = _removal(store, "doc")
    assert (gone.judged_by, gone.evidence["phrase"], gone.status) == (
        "soft_404_text", "страница не найдена", 200)
    data, mail = _one_removal_alert(alerts, receiver, smtp_sink)
    assert data["removed"]["evidence"]["phrase"] == "страница не найдена"
    assert "the page says it was not found" in mail


@pytest.mark.parametrize("answer", ["null", "data-null"])
def test_gov_kz_api_answering_null_is_removed_after_three_checks(
    store, replica, checker, alerts: Dispatcher, receiver, smtp_sink, answer: str
) -> None:
    url = replica.add_article("mfa", 78, title="Decisions", paragraphs=[LONG],
                              created_date="2026-03-03T10:00:00.000+05:00")
    register(store, SourceConfig(name="doc", url=url, kind="govkz", interval_seconds=60))
    checker.check("doc")
    replica.missing_answer = answer
    replica.remove_article(78)
    assert [checker.check("doc").outcome for _ in range(3)] == ["failed", "failed", "removed"]
    assert _removal(store, "doc").judged_by == "api_null"
    data, mail = _one_removal_alert(alerts, receiver, smtp_sink)
    assert data["removed"]["judged_by"] == "api_null"
    assert "the API answered null" in mail


def test_long_article_that_mentions_404_is_an_edit_not_a_removal(
    store, checker, site: FaultServer
) -> None:
    site.route(ARTICLE, ARTICLE_PAGE)
    _html_source(store, site)
    checker.check("doc")
    site.route(ARTICLE, _page("Decisions of the commission", LONG * 3,
                              "The old portal answered «Ошибка 404: страница не найдена» "
                              "for decree 404, page not found, so the minutes moved here."))
    assert checker.check("doc").outcome == "changed"
    assert "FetchFailed" not in _types(store, "doc")


@pytest.mark.parametrize("text", [
    "Page not found", "404", "The page you requested does not exist.",
    "Страница не найдена", "Запрашиваемая страница не найдена", "Ошибка 404",
    "Бет табылмады", "Парақ табылмады",
])
def test_each_not_found_message_on_a_short_page_is_judged(text: str) -> None:
    judged = judge_text("gov.kz", [text, "Back to the home page"])
    assert judged is not None and judged.judged_by == "soft_404_text"


def test_a_short_article_naming_decree_404_is_not_a_not_found_page() -> None:
    assert judge_text("Decree 404 signed", [
        "The government signed decree 404 on the budget of the regions for the next year "
        "and the ministry will publish it on Monday."]) is None


@pytest.mark.parametrize(("final", "judged_by"), [
    ("https://x.kz/", "redirect_to_home"),
    ("https://x.kz/kk/", "redirect_to_home"),
    ("https://x.kz/ru/news", "redirect_to_section"),
    ("https://x.kz/ru/news/9-other-article", None),  # moved, not gone
    ("https://x.kz/ru/news/7-article/", None),  # only a slash added
    ("https://other.kz/", None),  # another site: not this site's home page
])
def test_redirects_judged_by_where_they_lead(final: str, judged_by: str | None) -> None:
    watched = "https://x.kz/ru/news/7-article"
    judged = judge_redirect(watched, final, [watched])
    assert (judged.judged_by if judged else None) == judged_by


def test_a_watched_home_page_sent_to_its_language_root_is_not_judged() -> None:
    assert judge_redirect("https://x.kz/", "https://x.kz/ru/", ["https://x.kz/"]) is None
    assert judge_redirect("https://x.kz/kk", "https://x.kz/", ["https://x.kz/kk"]) is None


def test_an_old_removal_event_reads_as_judged_by_its_status() -> None:
    old = {"status": 410, "confirmations": 3, "last_hash": None}
    event = to_event("DocumentRemoved", 1, old)
    assert (event.judged_by, event.evidence) == ("http_410", {})
    assert removal_summary(old) == "removed: not found on 3 consecutive checks (HTTP 410)"
