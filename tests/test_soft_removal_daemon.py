"""A soft 404, end to end through the running daemon: `monitor run` in a subprocess,
an SMTP server and a webhook sink on 127.0.0.1. However the site says the document
is gone (a 200 page with gov.kz's not-found text, a redirect to the home page, the
API answering null), after `not_found_confirmations` checks exactly one `removed`
alert reaches each channel, with the title, the last stored version's date and text,
and how the removal was judged."""

from __future__ import annotations

import time
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
def test_every_way_a_site_says_a_document_is_gone_alerts_removed_once_through_the_daemon(
        tmp_path: Path, db_url: str) -> None:
    """Four sources in one daemon, each removed its own way at the same moment: a gov.kz
    page answering 200 with the not-found text, a redirect to the home page, the API
    answering null and answering {"data": null}."""
    page = ("<html><head><title>Decisions of the commission</title>"
            '<meta property="article:published_time" content="2026-03-04"></head><body><main>'
            f"<article><h1>Decisions of the commission</h1><p>{LONG * 3}</p><p>{LAST}</p>"
            "</article></main></body></html>")
    home = ("<html><head><title>Ministry</title></head><body><main><p>"
            + "Welcome to the ministry's site. " * 20 + "</p></main></body></html>")
    with GovkzReplica(prerendered=True, noise=False) as pages, FaultServer() as site, \
            GovkzReplica() as api, GovkzReplica() as data_api, SmtpSink() as smtp, \
            WebhookReceiver() as hook:
        soft_404 = pages.add_article("mfa", 77, lang="ru", title="Решения комиссии",
                                     paragraphs=[LONG, LAST],
                                     created_date="2026-03-03T10:00:00.000+05:00")
        site.route(ARTICLE, Reply.page(page))
        site.route("/ru", Reply.page(home))
        api_null = api.add_article("mfa", 78, title="Budget decisions", paragraphs=[LONG, LAST],
                                   created_date="2026-03-05T10:00:00.000+05:00")
        data_null = data_api.add_article("mfa", 79, title="Staff decisions",
                                         paragraphs=[LONG, LAST],
                                         created_date="2026-03-06T10:00:00.000+05:00")
        config = write_config(
            tmp_path, db_url, source(soft_404, name="soft404", kind="html"),
            source(site.url(ARTICLE), name="redirect", kind="html"),
            source(api_null, name="apinull", kind="govkz"),
            source(data_null, name="datanull", kind="govkz"),
            webhook(hook.url, SECRET_ENV), email(smtp.port),
            retries=0, defaults="not_found_confirmations = 3")
        for name in ("soft404", "redirect"):
            # The pages' volatile parts learned now, a few milliseconds between the
            # loads: the daemon's first check would wait 3 s between them.
            learned = monitor("--config", str(config), "learn", name, "--delay", "0.05",
                              cwd=tmp_path)
            assert learned.code == 0, learned.err
        daemon = start(config, {SECRET_ENV: SECRET})
        try:
            wait_for(lambda: types(db_url).count("VersionCaptured") == 4, 30,
                     "the first capture of each")
            pages.soft_404_pages = True
            pages.remove_article(77)
            site.route(ARTICLE, Reply.redirect(site.url("/ru")))
            api.missing_answer = "null"
            api.remove_article(78)
            data_api.missing_answer = "data-null"
            data_api.remove_article(79)
            wait_for(lambda: len(_removed(hook)) >= 4 and len(_mails(smtp)) >= 4, 45,
                     "the removed alerts")
            time.sleep(2.5)  # more checks and dispatch ticks: nothing more may come
        finally:
            daemon.stop()
    removed = {data["source"]["name"]: data for data in _removed(hook)}
    mails = _mails(smtp)
    assert len(_removed(hook)) == 4 and len(mails) == 4, (len(_removed(hook)), len(mails))
    assert set(removed) == {"soft404", "redirect", "apinull", "datanull"}

    def mail(title: str) -> str:
        [found] = [m for m in mails if title in m.splitlines()[0]]
        return found

    # The date the page's markup gave the stored version (the replica's page holds
    # more dates than the article's), whatever it is: the alert must carry that one.
    store = open_store(db_url)
    try:
        stored = version_text(store.engine, "soft404")[0].published
    finally:
        store.engine.dispose()
    assert stored
    _assert_carries(removed["soft404"], mail("Решения комиссии"), title="Решения комиссии",
                    judged_by="soft_404_text", published=stored,
                    said="the page says it was not found")
    assert removed["soft404"]["removed"]["evidence"]["phrase"] == "страница не найдена"
    _assert_carries(removed["redirect"], mail("Decisions of the commission"),
                    title="Decisions of the commission", judged_by="redirect_to_home",
                    published="2026-03-04", said="redirected to the home page")
    assert removed["redirect"]["removed"]["evidence"]["final_url"] == site.url("/ru")
    for name, title, published in (("apinull", "Budget decisions", "2026-03-05"),
                                   ("datanull", "Staff decisions", "2026-03-06")):
        _assert_carries(removed[name], mail(title), title=title, judged_by="api_null",
                        published=published, said="the API answered null")
