"""The web app in a real browser (Debian's chromium through Playwright): the flows a
newcomer and a reader go through. Screenshots are saved as artifacts."""

from __future__ import annotations

import pytest
from browser import chromium, page, screenshot  # noqa: F401  (fixtures)
from web_helpers import PASSWORD, serve

from monitor.config import Config
from monitor.store import open_store
from monitor.store.migrate import upgrade
from monitor.web.accounts.invites import first_admin_link
from monitor.web.accounts.users import add_user


@pytest.fixture
def served(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = open_store(url, check_schema=False)
    upgrade(store.engine)
    with serve(store, Config(path=None, database_url=url)) as found:
        yield found
    store.engine.dispose()


def test_first_admin_link_then_sign_out_and_in(served, page) -> None:  # noqa: F811
    link = first_admin_link(served.store.engine, served.url)
    page.goto(link)
    screenshot(page, "first-admin")
    page.fill("input[name=name]", "aigerim")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=again]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/")
    assert "aigerim" in page.inner_text("header")
    screenshot(page, "board-after-first-admin")
    page.click("text=Sign out")
    page.wait_for_url(f"{served.url}/login")
    page.fill("input[name=name]", "aigerim")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert "Wrong name or password" in page.inner_text("[role=alert]")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/")
    assert page.script_errors == []


def test_a_signed_out_visitor_lands_on_the_login_page_and_comes_back(served, page) -> None:  # noqa: F811
    add_user(served.store.engine, "dana", "viewer", PASSWORD)
    page.goto(served.url + "/?state=active")
    assert page.url.startswith(served.url + "/login?next=")
    page.fill("input[name=name]", "dana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/?state=active")
