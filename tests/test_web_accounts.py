"""Accounts of the web app: the first-admin link, signing in, roles, tokens, CSRF,
throttling, and the CLI that manages users and tokens."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
from web_helpers import PASSWORD, Client, serve

from monitor.web.accounts.invites import first_admin_link
from monitor.web.accounts.throttle import PER_ACCOUNT
from monitor.web.accounts.users import add_user


@pytest.fixture
def served(store):  # type: ignore[no-untyped-def]
    with serve(store) as found:
        yield found


def test_the_first_admin_link_works_once_and_signs_in(served) -> None:
    link = first_admin_link(served.store.engine, served.url)
    assert link is not None and link.startswith(served.url + "/setup/")
    browser = Client(served.url)
    page = browser.get(link)
    assert page.status_code == 200 and "first admin" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    made = browser.post(link, data={"name": "aigerim", "password": PASSWORD,
                                    "again": PASSWORD, "csrf": token}, allow_redirects=False)
    assert made.status_code == 303
    board = browser.get("/")
    assert board.status_code == 200 and "aigerim" in board.text
    again = Client(served.url).get(link)
    assert again.status_code == 404
    assert first_admin_link(served.store.engine, served.url) is None


def test_nothing_but_the_login_page_answers_without_a_login(served) -> None:
    anonymous = Client(served.url)
    board = anonymous.get("/", allow_redirects=False)
    assert board.status_code == 303 and board.headers["location"].startswith("/login?next=")
    assert anonymous.get("/login").status_code == 200
    api = anonymous.get("/", headers={"Authorization": "Bearer gkm_wrong"})
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"


def test_session_cookie_is_httponly_samesite_and_signed(served) -> None:
    add_user(served.store.engine, "ivan", "viewer", PASSWORD)
    answer = Client(served.url).sign_in("ivan")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on loopback: a Secure cookie would be lost
    forged = Client(served.url)
    forged.cookies.set("monitor_session", "eyJ1aWQiOiAxLCAiZXBvY2giOiAxfQ==.forged.sig")
    assert forged.get("/", allow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(served) -> None:
    browser = served.user("ivan", "viewer")
    refused = browser.post("/logout", data={}, allow_redirects=False)
    assert refused.status_code == 403
    assert browser.get("/", allow_redirects=False).status_code == 200  # still signed in
    other_site = browser.post("/logout", data={"csrf": browser.csrf("/")},
                              headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert other_site.status_code == 403
    done = browser.submit("/logout", {}, allow_redirects=False)
    assert done.status_code == 303
    assert browser.get("/", allow_redirects=False).status_code == 303


def test_wrong_passwords_are_throttled_per_account(served) -> None:
    add_user(served.store.engine, "ivan", "viewer", PASSWORD)
    browser = Client(served.url)
    for _ in range(PER_ACCOUNT):
        wrong = browser.post("/login", data={"name": "ivan", "password": "not it at all",
                                             "csrf": browser.csrf()}, allow_redirects=False)
        assert wrong.status_code == 401
    blocked = browser.post("/login", data={"name": "ivan", "password": PASSWORD,
                                           "csrf": browser.csrf()}, allow_redirects=False)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "900"


def test_a_token_acts_as_its_user_and_stops_when_revoked(served, tmp_path) -> None:
    token = served.token("robot", "viewer")
    assert requests.get(served.url + "/", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 200
    from monitor.web.accounts.tokens import list_tokens, revoke_token

    revoke_token(served.store.engine, list_tokens(served.store.engine, "robot")[0].id)
    assert requests.get(served.url + "/", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 401


def test_security_headers_on_every_page(served) -> None:
    page = Client(served.url).get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("style-src")[0]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"


def _monitor(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", "--database", db, *args],
                          capture_output=True, text=True, input=stdin, timeout=60)


def test_users_and_tokens_from_the_command_line(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert _monitor(db, "init").returncode == 0
    added = _monitor(db, "users", "add", "dana", "--role", "editor", "--password-stdin",
                     stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    short = _monitor(db, "users", "add", "bek", "--role", "viewer", "--password-stdin",
                     stdin="short\n")
    assert short.returncode != 0 and short.stderr.count("\n") == 1 and "10" in short.stderr
    bad_role = _monitor(db, "users", "add", "bek", "--role", "king", "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert bad_role.returncode == 2
    token = _monitor(db, "tokens", "create", "--user", "dana")
    assert token.returncode == 0 and token.stdout.startswith("gkm_")
    listed = _monitor(db, "tokens", "list")
    assert "dana" in listed.stdout and token.stdout.strip() not in listed.stdout
    assert _monitor(db, "tokens", "revoke", "1").returncode == 0
    assert _monitor(db, "tokens", "revoke", "1").returncode != 0
    users = _monitor(db, "users", "list")
    assert "dana\teditor" in users.stdout
    assert _monitor(db, "users", "remove", "dana").returncode == 0
    gone = _monitor(db, "users", "remove", "dana")
    assert gone.returncode != 0 and "no user named 'dana'" in gone.stderr


def test_the_password_hash_is_argon2id_and_its_memory_setting_is_checked(tmp_path) -> None:
    from monitor.web.accounts.users import MEMORY_ENV

    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert _monitor(db, "init").returncode == 0
    assert _monitor(db, "users", "add", "dana", "--role", "viewer", "--password-stdin",
                    stdin=PASSWORD + "\n").returncode == 0
    from sqlalchemy import create_engine, text

    stored = create_engine(db).connect().execute(text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    env_bad = subprocess.run([sys.executable, "-m", "monitor", "--database", db, "users", "add",
                              "bek", "--role", "viewer", "--password-stdin"],
                             input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
                             env={**__import__("os").environ, MEMORY_ENV: "lots"})
    assert env_bad.returncode == 2 and env_bad.stderr.count("\n") == 1
    assert MEMORY_ENV in env_bad.stderr
