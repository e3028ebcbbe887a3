"""`monitor add` looks before it leaps (issue 14, item 2): each new URL is read once
by the real fetcher and its kind's adapter, what it showed is printed, and a URL that
cannot be read is an error at once that registers nothing. Real HTTP servers on
loopback (tests/http_faults.py, the gov.kz replica), a real SQLite store, the real CLI."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from cli_helpers import Result, monitor
from http_faults import Reply

from monitor.replica import GovkzReplica
from monitor.replica.pages import SHELL_TITLE

PAGE = ("<html><head><title>Agency</title></head><body><article><h1>{title}</h1>"
        "<p>{first}</p><p>The office is open from nine to six on weekdays.</p>"
        "</article></body></html>")
CREATED = "2026-07-14T11:58:00.000+05:00"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the probe reads no store, and the add's writing is tested elsewhere
    on both kinds."""
    # Retries off: a dead URL fails on its first try (the product retries as configured).
    (tmp_path / "monitor.toml").write_text('[fetch]\nretries = 0\nmin_delay_per_host = "0s"\n')
    return f"sqlite:///{tmp_path / 'monitor.db'}"


def page(title: str = "Notice of hearing", first: str = "Hearing moved to 3 March.") -> Reply:
    return Reply.page(PAGE.format(title=title, first=first))


def dead_url() -> str:
    """A loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/page"


def registered(run) -> list[str]:  # type: ignore[no-untyped-def]
    return [s["name"] for s in run("sources", "--format", "json").json()]


def refused(result: Result, code: int = 1) -> str:
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err
    return result.err


def test_add_shows_what_the_page_gave_then_registers_it(run, server) -> None:  # type: ignore[no-untyped-def]
    server.route("/notice", page())
    server.route("/old", Reply.redirect("/notice", 301))
    added = run("add", server.url("/notice"), server.url("/old"))
    assert added.code == 0, added.err
    lines = added.out.splitlines()
    assert lines[:5] == [server.url("/notice"), "  status: 200", "   title: Notice of hearing",
                         "    kind: html (guessed: no other kind's address: a web page; "
                         "--kind to choose)", "    text: Hearing moved to 3 March."]
    assert f"  status: 200 (redirected to {server.url('/notice')})" in lines
    assert [ln for ln in lines if ln.startswith("added ")] == lines[-2:]  # after the looks
    assert len(server.hits("/notice")) == 2 and len(server.hits("/old")) == 1
    names = registered(run)
    assert len(names) == 2
    # The look records nothing: the first check records version 1.
    history = run("history", names[0], "--format", "json").json()
    assert history["versions"] == []


def test_the_json_output_carries_each_look(run, server) -> None:  # type: ignore[no-untyped-def]
    server.route("/notice", page())
    added = run("add", server.url("/notice"), "--kind", "html", "--format", "json")
    assert added.code == 0, added.err
    data = added.json()
    assert data["probed"] == [{
        "url": server.url("/notice"), "status": 200, "final_url": server.url("/notice"),
        "title": "Notice of hearing", "kind": "html", "kind_guessed_from": None,
        "first_line": "Hearing moved to 3 March.", "items": 0}]
    assert data["added"] == registered(run)


def test_a_gov_kz_article_shows_the_api_title_not_the_page_shell(run) -> None:  # type: ignore[no-untyped-def]
    with GovkzReplica() as replica:
        url = replica.add_article("mfa", 31, lang="en", title="Briefing on the visa regime",
                                  paragraphs=["Visas are no longer needed for stays of 30 days."],
                                  created_date=CREATED)
        added = run("add", url)
        as_html = run("add", url, "--kind", "html", "--name", "shell")
    assert added.code == 0, added.err
    assert "   title: Briefing on the visa regime" in added.out.splitlines()
    assert "    kind: govkz (guessed: a gov.kz article's address" in added.out
    assert "Visas are no longer needed" in added.out
    assert SHELL_TITLE not in added.out
    # The same address read as a plain page is the portal's empty shell: nothing to watch.
    err = refused(as_html)
    assert err.startswith(f"error: {url} looks like a JavaScript application (")
    assert "nothing was added" in err
    assert registered(run) == [added.out.splitlines()[-1].removeprefix("added ")]


def test_a_dead_port_is_an_error_at_once_and_nothing_is_registered(run) -> None:  # type: ignore[no-untyped-def]
    url = dead_url()
    started = time.monotonic()
    err = refused(run("add", url))
    assert time.monotonic() - started < 5
    assert err == (f"error: {url}: connection refused; nothing was added (--no-probe adds "
                   "it unread)\n")
    assert registered(run) == []


def test_a_404_is_refused(run, server) -> None:  # type: ignore[no-untyped-def]
    server.route("/gone", Reply.page("<p>no such page</p>", status=404))
    err = refused(run("add", server.url("/gone")))
    assert f"{server.url('/gone')} answered 404 Not Found; nothing was added" in err
    assert registered(run) == []


def test_a_host_that_cannot_resolve_fails_fast(run) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    err = refused(run("add", "https://www.gov-kz.invalid/page"))
    assert time.monotonic() - started < 5
    assert "cannot resolve host 'www.gov-kz.invalid'" in err
    assert registered(run) == []


def test_a_private_address_is_refused_before_it_is_fetched(tmp_path: Path, db_url: str,
                                                           server) -> None:  # type: ignore[no-untyped-def]
    server.route("/intranet", page())
    env = {"MONITOR_DATABASE_URL": db_url, "MONITOR_ALLOW_PRIVATE_NETWORKS": "0"}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    err = refused(monitor("add", server.url("/intranet"), cwd=tmp_path, env=env), code=2)
    assert "127.0.0.1 is a loopback address" in err and "ALLOW_PRIVATE_NETWORKS=1" in err
    assert server.hits("/intranet") == []
    assert monitor("sources", cwd=tmp_path, env=env).out.startswith("no sources")


def test_one_dead_url_of_several_registers_none(run, server) -> None:  # type: ignore[no-untyped-def]
    server.route("/a", page())
    server.route("/b", Reply(503))
    dead = dead_url()
    result = run("add", server.url("/a"), dead, server.url("/b"))
    err = refused(result)
    assert err.splitlines() == [
        "error: 2 of 3 URLs cannot be read, so none was added (--no-probe adds them unread):",
        f"  {dead}: connection refused",
        f"  {server.url('/b')} answered 503 Service Unavailable"]
    assert result.out.splitlines()[0] == server.url("/a")  # the one that answered was shown
    assert "added" not in result.out
    assert registered(run) == []


def test_no_probe_adds_a_dead_url_and_a_file_is_not_probed(run, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server.route("/later", Reply(404))
    added = run("add", server.url("/later"), "--no-probe", "--name", "later")
    assert added.code == 0, added.err
    assert added.out == "added later\n"
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# mine\n{server.url('/later/2')}\n", encoding="utf-8")
    from_file = run("add", "--from-file", str(listing))
    assert from_file.code == 0, from_file.err
    assert "the URLs of urls.txt were added without being fetched first (--probe fetches " \
           "each once)" in from_file.out
    assert server.hits("/later") == [] and server.hits("/later/2") == []
    assert len(registered(run)) == 2
    # A URL given beside the file is read; asked for, the file's are too (one already
    # watched is not read again).
    mixed = run("add", server.url("/later/4"), "--from-file", str(listing))
    assert f"{server.url('/later/4')} answered 404 Not Found" in refused(mixed)
    assert [s.path for s in server.seen] == ["/later/4"]
    listing.write_text(f"{server.url('/later/2')}\n{server.url('/later/3')}\n")
    probed = run("add", "--from-file", str(listing), "--probe", "--interval", "1h")
    assert f"{server.url('/later/3')} answered 404 Not Found; nothing was added" in refused(probed)
    assert [s.path for s in server.seen] == ["/later/4", "/later/3"]
    assert len(registered(run)) == 2


def test_a_hostile_page_is_shown_as_text(run, server) -> None:  # type: ignore[no-untyped-def]
    title = "\x1b[2J\x1b]0;owned\x07Notice\n\nadded fake-source \u202eevil<b>bold</b>"
    first = "Line one\x1b[31m red"
    server.route("/hostile", page(title.replace("<", "&lt;"), first))
    added = run("add", server.url("/hostile"))
    assert added.code == 0, added.err
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in added.out
    assert "fake-source" in added.out
    assert [ln for ln in added.out.splitlines() if ln.startswith("added")] == \
        [added.out.splitlines()[-1]]  # the page's "added" stays inside its text line
    assert "<b>bold</b>" in added.out  # markup in a title is text, shown as such
    server.route("/hostile/2", page(title.replace("<", "&lt;"), first))
    as_json = run("add", server.url("/hostile/2"), "--format", "json")
    assert "\x1b" not in as_json.out and "\u202e" not in as_json.out
    assert json.loads(as_json.out)["probed"][0]["title"].endswith("<b>bold</b>")


def test_each_language_version_and_a_list_are_looked_at(run) -> None:  # type: ignore[no-untyped-def]
    with GovkzReplica() as replica:
        url = replica.add_article("mfa", 30, lang="en", title="Only in English",
                                  paragraphs=["Text."], created_date=CREATED)
        replica.add_article("mfa", 31, lang="ru", title="Брифинг", paragraphs=["Текст."],
                            created_date=CREATED)
        both = run("add", url, "--languages", "en,kk")
        listed = run("add", replica.list_page_url("mfa", lang="ru"))
        api = replica.api_item_url(30)
    kk = url.replace("lang=en", "lang=kk")
    assert refused(both).splitlines() == [
        "error: 1 of 2 URLs cannot be read, so none was added (--no-probe adds them unread):",
        f"  {kk}: {api} answered 404 Not Found"]
    assert "   title: Only in English" in both.out  # the version that answered was shown
    assert listed.code == 0, listed.err
    assert "    kind: govkz-list (guessed: a gov.kz news list's address" in listed.out
    assert "    text: 1 item listed; first: 2026-07-14 Брифинг (31)" in listed.out
    assert len(registered(run)) == 1
