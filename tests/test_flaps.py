"""A part of a page seen to flap after learning gets a mask proposed, accepted or applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import monitor
from conftest import fast_config
from http_faults import FaultServer, Reply, Seen

BODY = ("The office of the ministry is open on weekdays from nine to six, with a break "
        "for lunch at one.")


@pytest.fixture
def page_server() -> Iterator[tuple[FaultServer, dict[str, str]]]:
    state = {"banner": "Banner A", "body": BODY}

    def page(_: Seen) -> Reply:
        return Reply.page(
            "<html><head><title>Notice</title></head><body><article><h1>Notice</h1>"
            f"<p>{state['body']}</p><div class='banner'>{state['banner']}</div>"
            "</article></body></html>")

    with FaultServer() as server:
        server.route("/notice", page)
        yield server, state


def _register(store, url: str) -> None:  # type: ignore[no-untyped-def]
    from monitor import catalog
    from monitor.config import SourceConfig

    catalog.register(store, SourceConfig(name="notice", url=url, kind="html",
                                         selector="article", interval_seconds=3600))


def test_a_reverting_banner_is_proposed_shown_and_once_accepted_never_a_change(
        store, db_url: str, page_server, tmp_path: Path) -> None:
    server, state = page_server
    _register(store, server.url("/notice"))
    env = {"MONITOR_DATABASE_URL": db_url}

    def check(banner: str) -> str:
        state["banner"] = banner
        result = monitor("check", "notice", "--no-learn", "--format", "json", cwd=tmp_path,
                         env=env)
        assert result.code == 0, result.err
        return str(result.json()["results"][0]["outcome"])

    assert [check("Banner A"), check("Banner B"), check("Banner A")] == [
        "captured", "changed", "changed"]
    shown = monitor("sources", "--show", "notice", "--format", "json", cwd=tmp_path, env=env)
    proposed = shown.json()["proposed_masks"]
    assert len(proposed) == 1 and proposed[0].startswith(
        "html > body > article:nth-of-type(1) > div.banner")
    text = monitor("sources", "--show", "notice", cwd=tmp_path, env=env).out
    assert "proposed_masks: ['html > body > article" in text

    accepted = monitor("learn", "notice", "--accept", cwd=tmp_path, env=env)
    assert accepted.code == 0 and "1 proposed mask(s) accepted" in accepted.out
    again = monitor("sources", "--show", "notice", "--format", "json", cwd=tmp_path, env=env)
    assert again.json()["proposed_masks"] == []
    assert [check("Banner B"), check("Banner A")] == ["unchanged", "unchanged"]

    state["body"] = BODY.replace("nine to six", "ten to five")
    assert check("Banner B") == "changed"  # a real edit still alerts


def test_accepting_with_nothing_proposed_says_so(store, db_url: str, page_server,
                                                  tmp_path: Path) -> None:
    server, _ = page_server
    _register(store, server.url("/notice"))
    result = monitor("learn", "notice", "--accept", cwd=tmp_path,
                     env={"MONITOR_DATABASE_URL": db_url})
    assert result.code == 0 and "no proposed masks to accept" in result.out


def _checks(store, db_url: str, state: dict[str, str], banners: list[str],
            **config: object) -> list[str]:  # type: ignore[no-untyped-def]
    from monitor.runner import build_checker

    checker = build_checker(fast_config(db_url, **config), store, learn=False)
    try:
        outcomes = []
        for banner in banners:
            state["banner"] = banner
            outcomes.append(checker.check("notice").outcome)
        return outcomes
    finally:
        checker.fetcher.close()


def _types(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream("notice")]


def test_under_the_apply_policy_a_flap_is_masked_as_soon_as_it_reverts(
        store, db_url: str, page_server) -> None:
    server, state = page_server
    _register(store, server.url("/notice"))
    outcomes = _checks(store, db_url, state, ["A", "B", "A", "B", "A", "B"],
                       apply_proposed_masks=True)
    assert outcomes == ["captured", "changed", "changed", "unchanged", "unchanged",
                        "unchanged"]
    assert _types(store).count("MasksProposed") == 1


def test_a_short_paragraph_changing_alone_twice_is_proposed_but_not_applied_by_default(
        store, db_url: str, page_server) -> None:
    server, state = page_server
    _register(store, server.url("/notice"))
    outcomes = _checks(store, db_url, state, ["Visitors: 1", "Visitors: 2", "Visitors: 3",
                                              "Visitors: 4"])
    assert outcomes == ["captured", "changed", "changed", "changed"]
    assert "MasksProposed" in _types(store)
    assert "SourceReconfigured" not in _types(store)


def test_one_edit_of_a_paragraph_is_no_flap(store, db_url: str, page_server) -> None:
    server, state = page_server
    _register(store, server.url("/notice"))
    outcomes = _checks(store, db_url, state, ["A", "B"])
    assert outcomes == ["captured", "changed"]
    state["body"] = BODY.replace("nine", "ten")
    assert _checks(store, db_url, state, ["B"]) == ["changed"]
    assert "MasksProposed" not in _types(store)


def test_the_apply_policy_is_read_from_defaults_and_a_bad_value_is_one_line(
        tmp_path: Path) -> None:
    from monitor.config import Config, load_config

    good = tmp_path / "good.toml"
    good.write_text("[defaults]\napply_proposed_masks = true\n")
    assert load_config(str(good)).apply_proposed_masks is True
    assert Config(path=None, database_url="sqlite://").apply_proposed_masks is False
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults]\napply_proposed_masks = 'yes'\n")
    result = monitor("--config", str(bad), "sources", cwd=tmp_path)
    assert result.code == 2 and "defaults.apply_proposed_masks" in result.err
    assert "Traceback" not in result.err


def test_the_log_shows_a_proposal_and_how_to_accept_it(store, db_url: str, page_server,
                                                        tmp_path: Path) -> None:
    server, state = page_server
    _register(store, server.url("/notice"))
    _checks(store, db_url, state, ["<b>A</b>", "B", "<b>A</b>"])
    out = monitor("events", cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url}).out
    assert "reverted to an earlier version: html > body > article" in out
    assert "monitor learn --accept" in out
