"""One's own account: API tokens made and revoked on the page, language and timezone
preferences, and a password change that ends every other session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from web_helpers import PASSWORD, Client, Served, serve

from monitor.i18n import Reader
from monitor.store import migrate, open_store
from monitor.web.accounts.tokens import create_token, list_tokens

NEW_PASSWORD = "a longer new passphrase"


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    with serve(store) as found:
        yield found
    store.engine.dispose()


def _bearer(served: Served, token: str) -> int:
    return requests.get(served.url + "/", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code


def test_a_token_made_on_the_account_page_works_as_bearer_until_revoked(served: Served) -> None:
    ivan = served.user("ivan", "viewer")
    made = ivan.submit("/account/tokens", {"label": "<i>feed reader</i>"}, "/account")
    assert made.status_code == 200 and "shown this once" in made.text
    token = re.search(r"gkm_[A-Za-z0-9_-]+", made.text).group(0)  # type: ignore[union-attr]
    assert "<i>feed reader</i>" not in made.text and "&lt;i&gt;feed reader" in made.text
    assert _bearer(served, token) == 200
    page = ivan.get("/account").text
    assert token not in page and "&lt;i&gt;feed reader&lt;/i&gt;" in page
    (mine,) = list_tokens(served.store.engine, "ivan")
    danas = served.token("dana", "editor")
    (dana,) = list_tokens(served.store.engine, "dana")
    refused = ivan.submit(f"/account/tokens/{dana.id}/revoke", {}, "/account")
    assert refused.status_code == 404 and _bearer(served, danas) == 200  # only one's own
    revoked = ivan.submit(f"/account/tokens/{mine.id}/revoke", {}, "/account")
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert _bearer(served, token) == 401


def test_preferences_set_the_pages_language_and_the_timezone_of_its_moments(
    served: Served
) -> None:
    ivan = served.user("ivan", "viewer")
    create_token(served.store.engine, "ivan", "moment")
    created = list_tokens(served.store.engine, "ivan")[0].created_at
    before = ivan.get("/account", headers={"Accept-Language": "en"}).text
    assert '<html lang="en">' in before
    assert Reader("en", "Asia/Almaty").moment(created) in before  # the default timezone
    saved = ivan.submit("/account/preferences", {"language": "ru", "timezone": "America/New_York"},
                        "/account", allow_redirects=False)
    assert saved.status_code == 303
    after = ivan.get("/account", headers={"Accept-Language": "en"}).text
    assert '<html lang="ru">' in after
    assert Reader("ru", "America/New_York").moment(created) in after
    assert '<html lang="ru">' in ivan.get("/report").text  # every page, not this one only
    bad_zone = ivan.submit("/account/preferences", {"language": "", "timezone": "Mars/Olympus"},
                           "/account")
    assert bad_zone.status_code == 400 and "Mars/Olympus" in bad_zone.text
    assert "неизвестный часовой пояс IANA" in bad_zone.text  # in the user's language
    bad_language = ivan.submit("/account/preferences", {"language": "de", "timezone": ""},
                               "/account")
    assert bad_language.status_code == 400
    browser = ivan.submit("/account/preferences", {"language": "", "timezone": ""}, "/account",
                          headers={"Accept-Language": "kk, ru;q=0.5"})
    assert '<html lang="kk">' in browser.text  # no setting: the browser's language again


def test_changing_the_password_ends_every_other_session_but_this_one(served: Served) -> None:
    here = served.user("ivan", "viewer")
    there = served.client("ivan")
    assert there.get("/account", allow_redirects=False).status_code == 200
    wrong = here.submit("/account/password", {"current": "not my password", "new": NEW_PASSWORD,
                                              "again": NEW_PASSWORD}, "/account")
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    differ = here.submit("/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                               "again": NEW_PASSWORD + "!"}, "/account")
    assert differ.status_code == 400
    assert there.get("/account", allow_redirects=False).status_code == 200  # nothing changed
    changed = here.submit("/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                                "again": NEW_PASSWORD}, "/account")
    assert changed.status_code == 200 and "Every other session has ended" in changed.text
    assert there.get("/account", allow_redirects=False).status_code == 303
    assert here.get("/account", allow_redirects=False).status_code == 200
    again = here.submit("/account/preferences", {"language": "en", "timezone": ""}, "/account",
                        allow_redirects=False)
    assert again.status_code == 303  # the re-signed session has a working CSRF token
    assert Client(served.url).sign_in("ivan", NEW_PASSWORD).status_code == 303
