"""A soft 404, end to end through the running daemon: `monitor run` in a subprocess,
an SMTP server and a webhook sink on 127.0.0.1. However the site says the document
is gone (a 200 page with gov.kz's not-found text, a redirect to the home page, the
API answering null), after `not_found_confirmations` checks exactly one `removed`
alert reaches each channel, with the title, the last stored version's date and text,
and how the removal was judged."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import monitor
from daemon_helpers import email, source, start, types, wait_for, webhook, write_config
from http_faults import FaultServer, Reply

from monitor.replica import GovkzReplica
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import open_store
from monitor.store.queries import version_text

LONG = ("The ministry held a meeting with the delegation on the penitentiary reform and the "
        "results of the year. Twelve decisions were approved by the commission. ")
LAST = "Minutes will follow next week."
ARTICLE = "/ru/memleket/entities/mfa/press/news/details/1001"
SECRET_ENV = "MONITOR_TEST_HOOK_SECRET"
pytestmark = pytest.mark.slow


def _run_until_removed(tmp_path: Path, db_url: str, url: str, kind: str,
                       remove: Callable[[], None]) -> tuple[dict, str]:  # type: ignore[type-arg]
    with SmtpSink() as smtp, WebhookReceiver() as hook:
        config = write_config(tmp_path, db_url, source(url, name="doc", kind=kind),
                              webhook(hook.url, SECRET_ENV), email(smtp.port),
                              retries=0, defaults="not_found_confirmations = 3")
        if kind == "html":
            # The page's volatile parts learned now, a few milliseconds between the loads:
            # the daemon's first check would wait 3 s between them.
            learned = monitor("--config", str(config), "learn", "doc", "--delay", "0.05",
                              cwd=tmp_path)
            assert learned.code == 0, learned.err
        daemon = start(config, {SECRET_ENV: SECRET})
        try:
            wait_for(lambda: "VersionCaptured" in types(db_url), 30, "the first capture")
            remove()
            wait_for(lambda: _removed(hook) and _mails(smtp), 45, "the removed alerts")
            time.sleep(2.5)  # more checks and dispatch ticks: nothing more may come
        finally:
            daemon.stop()
        removed, mails = _removed(hook), _mails(smtp)
        assert len(removed) == 1 and len(mails) == 1, (len(removed), len(mails))
        assert [r.json()["type"] for r in hook.received].count("document.removed") == 1
        return removed[0], mails[0]


def _removed(hook: WebhookReceiver) -> list[dict]:  # type: ignore[type-arg]
    return [r.json()["data"] for r in hook.received if r.json()["type"] == "document.removed"]


def _mails(smtp: SmtpSink) -> list[str]:
    found = []
    for message in smtp.messages:
        if "removed" in str(message["Subject"]):
            plain = message.get_body(("plain",))
            found.append(str(message["Subject"]) + "\n" + (plain.get_content() if plain else ""))
    return found


def _assert_carries(data: dict, mail: str, *, title: str, judged_by: str,  # type: ignore[type-arg]
                    published: str, said: str) -> None:
    assert data["title"] == title and title in mail
    assert data["removed"]["judged_by"] == judged_by
    assert data["removed"]["confirmations"] == 3
    assert LAST in data["removed"]["last_text"] and LAST in mail
    assert data["from_version"]["published"] == published, data["from_version"]
    assert published in mail
    assert said in mail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_gov_kz_not_found_page_with_200_alerts_removed_once_through_the_daemon(
        tmp_path: Path, db_url: str) -> None:
    with GovkzReplica(prerendered=True, noise=False) as replica:
        url = replica.add_article("mfa", 77, lang="ru", title="Решения комиссии",
                                  paragraphs=[LONG, LAST],
                                  created_date="2026-03-03T10:00:00.000+05:00")

        def remove() -> None:
            replica.soft_404_pages = True
            replica.remove_article(77)

        data, mail = _run_until_removed(tmp_path, db_url, url, "html", remove)
    # The date the page's markup gave the stored version (the replica's page holds
    # more dates than the article's), whatever it is: the alert must carry that one.
    store = open_store(db_url)
    try:
        stored = version_text(store.engine, "doc")[0].published
    finally:
        store.engine.dispose()
    assert stored
    _assert_carries(data, mail, title="Решения комиссии", judged_by="soft_404_text",
                    published=stored, said="the page says it was not found")
    assert data["removed"]["evidence"]["phrase"] == "страница не найдена"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_redirect_to_the_home_page_alerts_removed_once_through_the_daemon(
        tmp_path: Path, db_url: str) -> None:
    page = ("<html><head><title>Decisions of the commission</title>"
            '<meta property="article:published_time" content="2026-03-04"></head><body><main>'
            f"<article><h1>Decisions of the commission</h1><p>{LONG * 3}</p><p>{LAST}</p>"
            "</article></main></body></html>")
    home = ("<html><head><title>Ministry</title></head><body><main><p>"
            + "Welcome to the ministry's site. " * 20 + "</p></main></body></html>")
    with FaultServer() as site:
        site.route(ARTICLE, Reply.page(page))
        site.route("/ru", Reply.page(home))
        data, mail = _run_until_removed(
            tmp_path, db_url, site.url(ARTICLE), "html",
            lambda: site.route(ARTICLE, Reply.redirect(site.url("/ru"))))
    _assert_carries(data, mail, title="Decisions of the commission",
                    judged_by="redirect_to_home", published="2026-03-04",
                    said="redirected to the home page")
    assert data["removed"]["evidence"]["final_url"] == site.url("/ru")


@pytest.mark.parametrize("answer", ["null", "data-null"])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_gov_kz_api_answering_null_alerts_removed_once_through_the_daemon(
        tmp_path: Path, db_url: str, replica, answer: str) -> None:
    url = replica.add_article("mfa", 78, title="Decisions", paragraphs=[LONG, LAST],
                              created_date="2026-03-05T10:00:00.000+05:00")

    def remove() -> None:
        replica.missing_answer = answer
        replica.remove_article(78)

    data, mail = _run_until_removed(tmp_path, db_url, url, "govkz", remove)
    _assert_carries(data, mail, title="Decisions", judged_by="api_null",
                    published="2026-03-05", said="the API answered null")
