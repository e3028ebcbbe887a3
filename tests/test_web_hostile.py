"""Attacks on the web app that once worked, each served for real and sent over HTTP:
a removed user's session cookie that came back as someone else, a NUL character that
PostgreSQL refuses (a 500 with a traceback, before any sign-in), and a request body
read into memory however large it was."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_helpers import PASSWORD, Client, serve

from monitor.store import EventStore, migrate, open_store
from monitor.web.accounts.invites import first_admin_link
from monitor.web.accounts.tokens import list_tokens
from monitor.web.accounts.users import add_user
from monitor.web.app import SESSION_COOKIE
from monitor.web.limits import MAX_BODY


def _store(url: str) -> Iterator[EventStore]:
    store = open_store(url, check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    yield from _store(f"sqlite:///{tmp_path / 'monitor.db'}")


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[EventStore]:
    yield from _store(postgres_url)


def test_a_removed_users_cookie_never_signs_in_the_user_who_takes_their_id(
        sqlite_store: EventStore) -> None:
    # SQLite gives a new row the highest id plus one: removing the newest user frees
    # their id for the next one, who may be an admin.
    with serve(sqlite_store) as served:
        admin = served.user("root", "admin")
        mallory = served.user("mallory", "viewer")
        kept = mallory.cookies.get(SESSION_COOKIE)
        assert mallory.get("/admin/users", allow_redirects=False).status_code == 403
        gone = admin.submit("/admin/users/mallory/remove", {}, "/admin/users",
                            allow_redirects=False)
        assert gone.status_code == 303
        made = admin.submit("/admin/users", {"name": "boss", "role": "admin",
                                             "password": PASSWORD}, "/admin/users",
                            allow_redirects=False)
        assert made.status_code == 303
        replayed = requests.get(served.url + "/admin/users", allow_redirects=False,
                                cookies={SESSION_COOKIE: kept or ""}, timeout=30)
        assert replayed.status_code == 303
        assert replayed.headers["location"].startswith("/login")
        # The new admin's own sessions work.
        assert served.client("boss").get("/admin/users").status_code == 200


NUL_GETS = ["/sources/a%00b", "/sources/a%00b/versions/1", "/api/v1/sources/a%00b",
            "/feeds/sources/a%00b.atom", "/api/v1/changes?source=a%00"]


def test_a_nul_character_is_a_bad_request_not_a_server_error(
        postgres_store: EventStore) -> None:
    with serve(postgres_store) as served:
        stranger = Client(served.url)
        login = stranger.post("/login", data={"name": "ana\x00", "password": "x" * 12,
                                              "csrf": stranger.csrf("/login")})
        assert login.status_code == 400, login.text[:200]
        assert "NUL" in login.text
        editor = served.user("ed", "editor")
        token = served.token("bot", "viewer")
        for path in NUL_GETS:
            answer = requests.get(served.url + path, timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 400, (path, answer.text[:200])
            assert "NUL" in answer.json()["detail"]
        for path, data in (("/sources/a%00b/pause", {}), ("/account/tokens", {"label": "a\x00"})):
            answer = editor.submit(path, data)
            assert answer.status_code == 400, (path, answer.text[:200])
            assert "NUL" in answer.text and "Traceback" not in answer.text
        assert editor.get("/").status_code == 200  # still signed in, server still up


def _send_body(url: str, path: str, length: int, declared: bool) -> bytes:
    """POSTs `length` bytes (with Content-Length, or chunked) and returns the answer's
    first bytes, or b"" when the server closed the connection while we wrote."""
    host, port = url.removeprefix("http://").split(":")
    framing = (f"Content-Length: {length}\r\n" if declared
               else "Transfer-Encoding: chunked\r\n")
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n").encode()
    chunk = b"a" * 65536
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(head)
            sent = 0
            while sent < length:
                piece = chunk[:length - sent]
                sock.sendall(piece if declared else b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            if not declared:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return sock.recv(200)
        except ConnectionResetError:
            return b""


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_too_large_is_refused_before_it_is_read(sqlite_store: EventStore,
                                                       declared: bool) -> None:
    with serve(sqlite_store) as served:
        answer = _send_body(served.url, "/login", 4 * MAX_BODY, declared)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        add_user(sqlite_store.engine, "ana", "viewer", PASSWORD)
        served.client("ana")  # a form of ordinary size still signs in


def test_a_mistyped_first_admin_form_keeps_the_one_time_link(sqlite_store: EventStore) -> None:
    with serve(sqlite_store) as served:
        link = first_admin_link(sqlite_store.engine, served.url)
        assert link is not None
        browser = Client(served.url)
        token = browser.csrf(link.removeprefix(served.url))
        for name, password in (("bad name", PASSWORD), ("ana", "short")):
            typo = browser.post(link, data={"name": name, "password": password,
                                            "again": password, "csrf": token})
            assert typo.status_code == 400
            assert "expired" not in typo.text
        made = browser.post(link, data={"name": "ana", "password": PASSWORD, "again": PASSWORD,
                                        "csrf": token}, allow_redirects=False)
        assert made.status_code == 303, made.text[:300]
        assert browser.get("/admin/users").status_code == 200


def test_a_token_cannot_make_another_that_outlives_its_revocation(
        sqlite_store: EventStore) -> None:
    with serve(sqlite_store) as served:
        leaked = served.token("bot", "editor")
        minted = requests.post(served.url + "/account/tokens", data={"label": "mine now"},
                               headers={"Authorization": f"Bearer {leaked}"}, timeout=30)
        assert minted.status_code == 403, minted.text[:300]
        assert "gkm_" not in minted.text
        assert [t.label for t in list_tokens(sqlite_store.engine, "bot")] == [""]


def test_an_api_body_that_does_not_parse_gets_401_without_a_token(
        sqlite_store: EventStore) -> None:
    with serve(sqlite_store) as served:
        for body in (b"[" * 100000, b'{"url": "\xff"}'):
            answer = requests.post(served.url + "/api/v1/sources", data=body, timeout=30,
                                   headers={"content-type": "application/json"})
            assert answer.status_code == 401, answer.text[:200]
        token = served.token("bot", "editor")
        parsed = requests.post(served.url + "/api/v1/sources", data=b"[" * 100000, timeout=30,
                               headers={"content-type": "application/json",
                                        "Authorization": f"Bearer {token}"})
        assert parsed.status_code == 400


def test_signing_out_ends_a_copy_of_the_session_cookie_too(tmp_path) -> None:
    from web_helpers import serve

    from monitor.config import Config
    from monitor.store import open_store
    from monitor.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = open_store(url, check_schema=False)
    upgrade(store.engine)
    with serve(store, Config(path=None, database_url=url)) as served:
        browser = served.user("ivan", "viewer")
        stolen = served.client()
        stolen.cookies.update(browser.cookies)
        assert stolen.get("/", allow_redirects=False).status_code == 200
        assert browser.submit("/logout", {}, allow_redirects=False).status_code == 303
        assert stolen.get("/", allow_redirects=False).status_code == 303
        assert served.client("ivan").get("/", allow_redirects=False).status_code == 200
    store.engine.dispose()
