"""What a page or a user's own setting can cost a check is bounded: a `regex:` mask
that backtracks without end, a first capture that masks leave empty, a server that
answers each request just inside the deadline."""

from __future__ import annotations

import time

import pytest
from http_faults import FaultServer, Reply

from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.errors import UsageError
from monitor.runner import run_pass
from monitor.store.queries import version_document

ARTICLE = ("<html><head><title>Notice</title></head><body><article><h1>Notice</h1>"
           "<p>The commission met on 4 May and approved twelve decisions on the budget "
           "of the regional programmes for the coming year.</p>"
           "<p>Minutes of the meeting will be published next week on the website of the "
           "commission, with the votes of every member: {tail}</p></article></body></html>")



def test_an_ignore_pattern_that_backtracks_for_ever_fails_the_check_and_the_pass_goes_on(
    server: FaultServer, store, checker
) -> None:
    # `(a|aa)+$` on forty a's and a `!` backtracks for ages, in `re` and in `regex`
    # alike; `(a+)+$`, the one reported, `regex` no longer takes long on at all.
    server.route("/hostile", Reply.page(ARTICLE.format(tail="a" * 40 + "!")))
    server.route("/fine", Reply.page(ARTICLE.format(tail="a" * 34 + "!")))
    register(store, SourceConfig(name="hostile", url=server.url("/hostile"), kind="html",
                                 interval_seconds=60, ignore=("regex:(a|aa)+$",)))
    register(store, SourceConfig(name="fine", url=server.url("/fine"), kind="html",
                                 interval_seconds=60, ignore=("regex:(a+)+$",)))
    checker.learn = False
    started = time.monotonic()
    results = {r.source: r for r in run_pass(checker, ["hostile", "fine"], workers=1).results}
    assert time.monotonic() - started < 20
    assert results["hostile"].outcome == "failed", results["hostile"].detail
    assert results["hostile"].detail.startswith(
        "parse: ignore pattern '(a|aa)+$' took more than 1 s on this page; simplify it")
    assert results["fine"].outcome == "captured", results["fine"].detail


@pytest.mark.parametrize("ignore,said", [
    (("regex:.*",), "nothing is left of the page after the source's masks"),
    (("article", "regex:Notice"), "no main content found"),  # the adapter's own word
])
def test_a_first_capture_that_masks_leave_empty_is_a_failure_not_a_version(
    server: FaultServer, store, checker, ignore: tuple[str, ...], said: str
) -> None:
    server.route("/notice", Reply.page(ARTICLE.format(tail="none.")))
    register(store, SourceConfig(name="notice", url=server.url("/notice"), kind="html",
                                 interval_seconds=60, ignore=ignore))
    checker.learn = False
    result = checker.check("notice")
    assert result.outcome == "failed", result
    assert result.detail.startswith("empty: "), result.detail
    assert said in result.detail
    with pytest.raises(UsageError, match="no stored version"):
        version_document(store.engine, "notice")


def test_a_first_capture_with_a_title_alone_is_recorded(
    server: FaultServer, store, checker
) -> None:
    server.route("/notice", Reply.page(ARTICLE.format(tail="none.")))
    register(store, SourceConfig(name="notice", url=server.url("/notice"), kind="html",
                                 interval_seconds=60, ignore=("article p",)))
    checker.learn = False
    assert checker.check("notice").outcome == "captured"
    assert version_document(store.engine, "notice").title == "Notice"


def test_a_server_answering_just_inside_the_deadline_cannot_make_a_first_check_cost_more(
    server: FaultServer, store, db_url: str
) -> None:
    # Each answer takes 1.7 s of a 2 s deadline: learning's three loads and its pause,
    # then the capture, took 7.8 s; they now share one budget of two deadlines, and a
    # learning that fails ends the check there.
    from dataclasses import replace

    from conftest import fast_config

    from monitor.runner import build_checker

    page = ARTICLE.format(tail="none.").encode()
    server.route("/slow", Reply(200, page, {"Content-Type": "text/html"}, delay=1.7))
    register(store, SourceConfig(name="slow", url=server.url("/slow"), kind="html",
                                 interval_seconds=60))
    config = fast_config(db_url)
    config = replace(config, fetch=replace(config.fetch, timeout=5.0, deadline=2.0, retries=0))
    checker = build_checker(config, store, learn_delay=1.0)
    try:
        started = time.monotonic()
        result = checker.check("slow")
        took = time.monotonic() - started
    finally:
        checker.fetcher.close()
    assert took < 2 * 2.0 + 2.0, took  # it took 7.8 s
    assert result.outcome == "failed" and result.detail.startswith("timeout"), result.detail
    assert "check's 4 s ran out" in result.detail
    assert len(server.hits("/slow")) in (2, 3)  # learning's loads, no capture after them
