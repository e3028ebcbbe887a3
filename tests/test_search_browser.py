"""A search hit in a real browser (Debian's chromium through Playwright): typed into the
form, the hit's passage shows the match marked and hostile page text as text, and the
hit leads to the document's version. Screenshots are saved as artifacts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import chromium, page, screenshot  # noqa: F401  (fixtures)
from search_helpers import ABOLISHED, canonical, record
from web_helpers import PASSWORD, Served, serve

from monitor.store import open_store
from monitor.store.migrate import upgrade
from monitor.web.accounts.users import add_user


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}", check_schema=False)
    upgrade(store.engine)
    with serve(store) as found:
        yield found
    store.engine.dispose()


def test_a_search_hit_shows_its_passage_and_leads_to_its_version(served, page) -> None:  # noqa: F811
    record(served.store, "law", canonical("Закон о наказаниях", ABOLISHED,
                                          "<script>document.title='pwned'</script>"),
           canonical("Закон о наказаниях", "Статья 1."))
    add_user(served.store.engine, "dana", "viewer", PASSWORD)
    page.goto(served.url + "/login?next=/search")
    page.fill("input[name=name]", "dana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/search")
    page.fill("input[name=q]", "«Смертная КАЗНЬ» script")
    page.click("form.search-form button[type=submit]")
    page.wait_for_selector("li.hit")
    screenshot(page, "search-hit")
    assert page.locator("li.hit mark").all_inner_texts() == ["смертная казнь", "script",
                                                              "script"]
    passage = page.inner_text("li.hit .passage")
    assert "<script>document.title='pwned'</script>" in passage  # shown as text
    assert page.title() != "pwned" and "not in the latest version (2)" in page.inner_text(
        "li.hit")
    page.click("li.hit >> text=version 1")
    page.wait_for_url(served.url + "/sources/law/versions/1")
    assert page.script_errors == []
