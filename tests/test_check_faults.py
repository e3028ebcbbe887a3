"""Every fault a page can throw at one check gives the right event; none escapes `check`."""

from __future__ import annotations

import pytest
from http_faults import FaultServer, Reply

from monitor.catalog import register
from monitor.clock import ManualClock
from monitor.config import SourceConfig

ARTICLE = ("<html><head><title>Notice</title></head><body><article><h1>Notice</h1>"
           "<p>The commission met on 4 May and approved 12 decisions.</p>"
           "<p>Minutes will be published next week.</p></article></body></html>")
CYRILLIC = ("<html><head><meta charset=\"windows-1251\"><title>Сообщение</title></head><body>"
            "<article><p>Комиссия утвердила двенадцать решений.</p>"
            "<p>Протокол будет опубликован.</p></article></body></html>")



def _page(server: FaultServer, store, path: str) -> str:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name="page", url=server.url(path), kind="html",
                                 interval_seconds=60, selector="article"))
    return "page"


def _types(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream("page")]


@pytest.mark.parametrize("replies,outcome,failure_kind", [
    ([Reply(200, ARTICLE.encode(), {"Content-Type": "text/html"}, delay=3.0)],
     "failed", "timeout"),
    ([Reply(500), Reply.page(ARTICLE)], "captured", None),
    ([Reply(429, b"", {"Retry-After": "1"}), Reply.page(ARTICLE)], "captured", None),
    ([Reply(200, b"", {"Content-Type": "text/html"}, stream=50 * 1024 * 1024)],
     "failed", "too_large"),
    ([Reply(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 50, {"Content-Type": "image/png"})],
     "failed", "binary"),
    ([Reply.page(CYRILLIC.encode("windows-1251"), content_type="text/html")], "captured", None),
    ([Reply.page("<html><body><article><p>Unclosed <b>bold<p>Second <i>para</article>")],
     "captured", None),
    ([Reply.redirect("/loop")], "failed", "redirect_loop"),
    ([Reply(503)], "failed", "server_error"),
])
def test_fault_gives_the_right_event(server: FaultServer, store, checker, replies,
                                     outcome: str, failure_kind: str | None) -> None:
    server.route("/loop", *replies)
    name = _page(server, store, "/loop")
    result = checker.check(name)
    assert result.outcome == outcome, result.detail
    if failure_kind:
        assert result.detail.startswith(failure_kind)
        assert _types(store)[-1] == "FetchFailed"
        assert store.read_stream(name)[-1].data["kind"] == failure_kind
    else:
        assert _types(store)[-1] == "VersionCaptured"
        assert "FetchFailed" not in _types(store)


def test_windows_1251_page_is_stored_as_correct_text(server: FaultServer, store, checker) -> None:
    from monitor.store.queries import version_document

    server.route("/ru", Reply.page(CYRILLIC.encode("windows-1251"), content_type="text/html"))
    name = _page(server, store, "/ru")
    assert checker.check(name).outcome == "captured"
    document = version_document(store.engine, name)
    assert document.paragraphs[0] == "Комиссия утвердила двенадцать решений."


def test_failure_then_success_records_source_recovered(server: FaultServer, store,
                                                       checker) -> None:
    # The 404 fails learning, which ends the check: the capture does not fetch again.
    server.route("/flaky", Reply(404), Reply.page(ARTICLE))
    name = _page(server, store, "/flaky")
    assert checker.check(name).outcome == "failed"
    assert checker.check(name).outcome == "captured"
    assert _types(store) == ["SourceRegistered", "FetchFailed", "SourceReconfigured",
                             "SourceRecovered", "VersionCaptured"]


def test_a_full_disk_loses_nothing_stored_and_the_next_check_records_the_change(
    server: FaultServer, store, checker, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the disk-full limit is SQLite's max_page_count")
    from sqlalchemy import event

    from monitor.store.verify import verify_log

    big = "<html><body><article>" + "".join(
        f"<p>Paragraph {i} of the decision, with its own words {i * 7}.</p>" for i in range(3000)
    ) + "</article></body></html>"
    server.route("/big", Reply.page(ARTICLE), Reply.page(big))
    name = _page(server, store, "/big")
    checker.learn = False
    assert checker.check(name).outcome == "captured"
    before = _types(store)

    store.engine.dispose()
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def full(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    store.engine.dispose()
    event.listen(store.engine, "connect", full)
    result = checker.check(name)
    assert result.outcome == "error" and "full" in result.detail, result.detail
    event.remove(store.engine, "connect", full)
    store.engine.dispose()

    assert _types(store) == before
    assert verify_log(store.engine).intact
    assert checker.check(name).outcome == "changed"


def test_a_page_key_that_cannot_be_written_costs_speed_never_the_check(
    server: FaultServer, store, checker, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the write refusal is SQLite's query_only")
    from sqlalchemy import delete, event, select

    from monitor.store.pagekeys import PageKeys
    from monitor.store.schema import page_keys

    server.route("/page", Reply.page(ARTICLE))
    name = _page(server, store, "/page")
    checker.learn = False
    assert checker.check(name).outcome == "captured"
    with store.engine.begin() as conn:
        conn.execute(delete(page_keys))  # the cache lost: the next check must extract

    def read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA query_only = ON")

    store.engine.dispose()
    event.listen(store.engine, "connect", read_only)
    checker.page_keys = PageKeys(store.engine)  # forget what this checker wrote
    result = checker.check(name)
    event.remove(store.engine, "connect", read_only)
    store.engine.dispose()

    assert result.outcome == "unchanged", result.detail  # the key write failed, quietly
    with store.engine.connect() as conn:
        assert conn.execute(select(page_keys)).first() is None
    assert checker.check(name).outcome == "unchanged"
    with store.engine.connect() as conn:
        assert conn.execute(select(page_keys)).first() is not None  # written once it can be


@pytest.fixture
def down(server: FaultServer, store, db_url: str):  # type: ignore[no-untyped-def]
    """A source whose server answers 503, and a checker for it; call with the
    `repeat_failures_every` to use and, optionally, a channel's `failing_after`."""
    from conftest import fast_config

    from monitor.config import AlertConfig
    from monitor.runner import build_checker

    server.route("/down", Reply(503))
    name = _page(server, store, "/down")
    made = []

    def checker(every: float, failing_after: str | None = None):  # type: ignore[no-untyped-def]
        alerts = () if failing_after is None else (
            AlertConfig("desk", "webhook", {"url": "http://127.0.0.1:9/", "secret_env": "S",
                                            "failing_after": failing_after}),)
        config = fast_config(db_url, repeat_failures_every=every, alerts=alerts)
        made.append(build_checker(config, store, learn=False))
        return name, made[-1]

    yield checker
    for c in made:
        c.fetcher.close()


def _steered_clock(store) -> ManualClock:  # type: ignore[no-untyped-def]
    """The store's clock, moved on by the test: time passes when the test says, not
    when a loaded machine happens to be slow."""
    store.clock = clock = ManualClock()
    return clock


def test_a_long_outage_records_one_failure_per_interval_not_one_per_check(
    server: FaultServer, store, down
) -> None:
    clock = _steered_clock(store)
    name, checker = down(1.0)
    results = [checker.check(name) for _ in range(4)]
    assert [r.outcome for r in results] == ["failed"] * 4
    assert "still failing" in results[-1].detail
    assert _types(store).count("FetchFailed") == 1
    server.route("/down", Reply(404))  # another kind, on a page never read: no removal to
    assert checker.check(name).outcome == "failed"  # count toward, so no event either
    assert _types(store).count("FetchFailed") == 1
    clock.advance(1.1)  # the streak's next interval: the outage is recorded again
    assert checker.check(name).outcome == "failed"
    assert checker.check(name).outcome == "failed"
    assert _types(store).count("FetchFailed") == 2
    server.route("/down", Reply.page(ARTICLE))
    assert checker.check(name).outcome == "captured"
    assert _types(store)[-2:] == ["SourceRecovered", "VersionCaptured"]


def test_the_failure_that_carries_the_failing_alert_is_always_recorded(store, down) -> None:
    clock = _steered_clock(store)
    name, checker = down(3600.0, failing_after="1s")
    checker.check(name)
    checker.check(name)
    assert _types(store).count("FetchFailed") == 1
    clock.advance(1.1)  # failing for longer than the channel's failing_after now
    checker.check(name)
    checker.check(name)
    assert _types(store).count("FetchFailed") == 2  # the crossing, once


def test_every_failure_is_recorded_when_repeat_failures_every_is_zero(store, down) -> None:
    name, checker = down(0.0)
    for _ in range(3):
        checker.check(name)
    assert _types(store).count("FetchFailed") == 3
