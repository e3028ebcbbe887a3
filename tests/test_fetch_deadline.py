"""A slow server cannot hold a check: one deadline covers connect, every redirect hop
and the body, against real servers on loopback that trickle and stall."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import fast_config
from http_faults import FaultServer, Reply, Seen

from monitor.catalog import register
from monitor.config import SourceConfig, load_config
from monitor.errors import ConfigError, FetchFailed
from monitor.fetch import Fetcher, FetchSettings
from monitor.runner import build_checker, fetch_settings

PAGE = b"<html><body><article><p>" + b"slow " * 40 + b"</p></article></body></html>"
SLACK = 1.5  # seconds past the deadline a fetch may take to give up (CI machines are slow)


def quick(**changes: object) -> FetchSettings:
    return FetchSettings(**{"retries": 0, "min_delay_per_host": 0.0, **changes})  # type: ignore[arg-type]



def timed_failure(fetcher: Fetcher, url: str) -> tuple[FetchFailed, float]:
    started = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetcher.get(url)
    return caught.value, time.monotonic() - started


def test_a_body_trickled_a_byte_a_second_ends_at_the_deadline(server: FaultServer) -> None:
    # Each byte comes well within the read timeout, so only the deadline can stop it.
    server.route("/trickle", Reply(200, PAGE, {"Content-Type": "text/html"}, trickle=1.0))
    with Fetcher(quick(read_timeout=5.0, deadline=2.0)) as fetcher:
        error, took = timed_failure(fetcher, server.url("/trickle"))
    assert error.kind == "timeout"
    assert "2 s deadline" in str(error) and "[fetch] deadline" in str(error)
    assert 2.0 <= took < 2.0 + SLACK
    # The connection was really closed: the server's next writes fail.
    stream = server.streams[0]
    assert stream.done.wait(5.0) and stream.aborted
    assert stream.sent < len(PAGE)


def test_redirects_answered_slowly_end_at_the_deadline(server: FaultServer) -> None:
    def next_hop(request: Seen) -> Reply:
        hop = int(request.path.partition("?")[2] or 0)
        return Reply(302, b"", {"Location": f"/hop?{hop + 1}"}, delay=0.7)

    server.route("/hop", next_hop)
    with Fetcher(quick(read_timeout=5.0, deadline=2.0, max_redirects=20)) as fetcher:
        error, took = timed_failure(fetcher, server.url("/hop"))
    assert error.kind == "timeout" and "2 s deadline" in str(error)
    assert took < 2.0 + SLACK
    hops = [seen for seen in server.seen if seen.path.startswith("/hop")]
    assert 2 <= len(hops) <= 4  # every hop counts against the one deadline


def test_a_retry_is_not_waited_for_past_the_deadline(server: FaultServer) -> None:
    server.route("/busy", Reply(503, b"", {"Retry-After": "5"}), Reply.page(PAGE))
    with Fetcher(quick(retries=3, deadline=2.0)) as fetcher:
        error, took = timed_failure(fetcher, server.url("/busy"))
    assert error.kind == "server_error" and error.status == 503
    assert took < 2.0
    assert len(server.hits("/busy")) == 1


def test_a_fetch_within_its_deadline_is_untouched(server: FaultServer) -> None:
    server.route("/slowish", Reply(200, b"<p>ok</p>", {"Content-Type": "text/html"}, trickle=0.1))
    with Fetcher(quick(deadline=5.0)) as fetcher:
        assert fetcher.get(server.url("/slowish")).text() == "<p>ok</p>"


def test_a_slow_server_cannot_hold_a_check(server: FaultServer, store, db_url: str) -> None:  # type: ignore[no-untyped-def]
    server.route("/page", Reply(200, PAGE, {"Content-Type": "text/html"}, trickle=1.0))
    register(store, SourceConfig(name="slow", url=server.url("/page"), kind="html",
                                 interval_seconds=60, selector="article"))
    config = fast_config(db_url)
    config = replace(config, fetch=replace(config.fetch, timeout=5.0, deadline=2.0))
    checker = build_checker(config, store, learn=False)
    try:
        started = time.monotonic()
        result = checker.check("slow")
    finally:
        checker.fetcher.close()
    assert time.monotonic() - started < 2.0 + SLACK
    assert result.outcome == "failed" and result.detail.startswith("timeout")
    failure = store.read_stream("slow")[-1]
    assert failure.type == "FetchFailed" and "2 s deadline" in failure.data["message"]


# --- the setting --------------------------------------------------------------------


def write_config(tmp_path: Path, fetch: str) -> str:
    path = tmp_path / "monitor.toml"
    path.write_text(f"[fetch]\n{fetch}\n", encoding="utf-8")
    return str(path)


def test_the_deadline_is_read_from_the_config_and_reaches_the_fetcher(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, 'deadline = "45s"'))
    assert config.fetch.deadline == 45.0
    assert fetch_settings(config).deadline == 45.0
    assert load_config(write_config(tmp_path, "")).fetch.deadline == 60.0


@pytest.mark.parametrize("value", ['"0s"', '"2h"', '"soon"', "-5"])
def test_a_deadline_that_is_not_positive_and_bounded_is_refused(tmp_path: Path,
                                                                value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, f"deadline = {value}"))
    assert "fetch.deadline" in str(caught.value)
