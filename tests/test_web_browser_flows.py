"""The reader's and the editor's flows in a real browser (Debian's chromium through
Playwright), against one store served for the whole module (browser_story.py): a
change arriving on the board live, a document, a diff, a search hit, a source added
after its preview, a viewer refused, hostile page text shown as text, and a POST
without its CSRF token refused. Each flow saves a screenshot as an artifact."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from browser import chromium, page, screenshot  # noqa: F401  (fixtures)
from browser_story import (
    CAPTURED_TITLE,
    EDITOR,
    HOSTILE,
    HOSTILE_NAME,
    LIVE_ID,
    LIVE_NAME,
    LIVE_PARAGRAPHS,
    VIEWER,
    BrowserStory,
    browser_story,
)
from document_story import NAME
from web_helpers import PASSWORD

from monitor.store.queries import source_by_stream

SEARCH_MERGED = importlib.util.find_spec("monitor.web.routes.search") is not None


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserStory]:
    with browser_story(tmp_path_factory.mktemp("browser")) as found:
        yield found


def sign_in(tab, story: BrowserStory, name: str, path: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Opens `path` signed out, signs in on the login page it lands on, and is back."""
    url = story.served.url + path
    tab.goto(url)
    assert tab.url.startswith(story.served.url + "/login?next=")
    tab.fill("input[name=name]", name)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(url)


def state(story: BrowserStory, name: str) -> str:
    source = source_by_stream(story.served.store.engine, name)
    assert source is not None
    return str(source.state)


# --- the board, live --------------------------------------------------------------------
def test_a_change_checked_while_the_board_is_open_shows_without_a_reload(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER)
    row = page.locator(f'#board-rows tr[data-source="{LIVE_NAME}"]')
    before = row.get_attribute("data-position")
    assert row.locator(".sig").count() == 0  # captured once, never changed
    page.wait_for_function("document.getElementById('board').dataset.live === 'on'")
    page.evaluate("window.__marker = 1")
    story.replica.edit_article(LIVE_ID, "en", paragraphs=[
        LIVE_PARAGRAPHS[0], LIVE_PARAGRAPHS[1].replace("17", "71")])
    assert story.checker.check(LIVE_NAME).outcome == "changed"
    page.wait_for_function(
        """([name, before]) => {
             const row = document.querySelector(`#board-rows tr[data-source="${name}"]`);
             return row && row.dataset.position !== before && row.classList.contains('changed');
           }""", arg=[LIVE_NAME, before])
    assert page.evaluate("window.__marker") == 1  # the same page: no reload
    assert page.evaluate("performance.getEntriesByType('navigation').map(e => e.type)") == [
        "navigate"]
    assert row.locator(".sig.sig-high").inner_text() == "high"  # a number changed
    assert page.locator("#board-rows tr.changed").count() == 1  # only the row that moved
    assert page.inner_text("#board-status").startswith("Updated")
    assert page.script_errors == []
    screenshot(page, "board-live-change")


# --- a document, a diff, a search hit ---------------------------------------------------
def test_a_document_shows_its_timeline_with_a_dot_per_version(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER, f"/sources/{NAME}")
    timeline = page.locator("svg#timeline")
    timeline.wait_for(state="visible")
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 40
    dots = timeline.locator("circle.dot")
    assert dots.count() == 5
    assert all(dots.nth(i).is_visible() for i in range(5))
    assert page.locator("#versions tbody tr").count() == 5
    assert page.script_errors == []
    screenshot(page, "document")


WITHOUT = """(element, tag) => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll(tag).forEach(e => e.remove());
    return copy.textContent.trim();
}"""


def test_a_diff_marks_the_whole_changed_number_inline_and_side_by_side(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER, f"/sources/{NAME}/diff?from=1&to=2")
    diff = page.locator("#diff")
    assert diff.locator("del").all_inner_texts() == ["120"]
    assert diff.locator("ins").all_inner_texts() == ["150"]
    old, new = diff.locator("del").bounding_box(), diff.locator("ins").bounding_box()
    assert old and new and new["x"] > old["x"] + old["width"]  # apart: never read as 120150
    hunk = diff.locator(".hunk-text")
    # Read without its insertions, the hunk is the old paragraph; without its deletions,
    # the new one.
    assert hunk.evaluate(WITHOUT, "ins") == "The conference gathered 120 participants."
    assert hunk.evaluate(WITHOUT, "del") == "The conference gathered 150 participants."
    screenshot(page, "diff-inline")
    page.check("input[name=view][value=side]")
    page.click("#diff-pickers button[type=submit]")
    page.wait_for_url(re.compile(r"view=side"))
    assert page.locator("#diff td.old del").all_inner_texts() == ["120"]
    assert page.locator("#diff td.new ins").all_inner_texts() == ["150"]
    assert page.script_errors == []
    screenshot(page, "diff-side")


def test_a_search_hit_leads_to_the_version_that_holds_the_words(story, page) -> None:  # noqa: F811
    if not SEARCH_MERGED:
        pytest.skip("search page not merged")
    sign_in(page, story, VIEWER, "/search?q=" + quote("Deputy Minister"))
    hits = page.locator("li.hit")
    assert hits.count() >= 1
    hit = hits.filter(has=page.locator(f'a[href="/sources/{NAME}"]')).first
    assert [m.lower() for m in hit.locator("mark").all_inner_texts()] in (
        ["deputy minister"], ["deputy", "minister"])
    screenshot(page, "search-hit")
    hit.locator(f'a[href^="/sources/{NAME}/versions/"]').click()
    page.wait_for_url(re.compile(rf"/sources/{NAME}/versions/\d+$"))
    assert "Deputy Minister Artur Lastayev" in page.inner_text("#text")
    page.goto(story.served.url + "/search?q=tenge")  # the hostile document's hit: text
    title = page.locator(f'li.hit a.hit-title[href="/sources/{HOSTILE_NAME}"]')
    assert title.inner_text() == HOSTILE
    assert page.evaluate("window.__pwned") is None and page.locator("img[src=x]").count() == 0
    assert page.script_errors == []


# --- an editor adds a source after its preview ------------------------------------------
def test_an_editor_previews_a_replica_page_and_saves_it(story, page) -> None:  # noqa: F811
    url = story.replica.add_article("mfa", 4243, title="Ombudsman's annual report",
                                    paragraphs=["The report lists 214 complaints.",
                                                "Most concern prisons in 4 regions."],
                                    created_date="2026-02-10T09:00:00.000+05:00")
    sign_in(page, story, EDITOR, "/sources")
    page.fill("#add-source input[name=url]", url)
    page.click("#add-source button[name=preview]")
    preview = page.locator("#preview")
    preview.wait_for()
    assert preview.locator(".doc-title").inner_text() == "Ombudsman's annual report"
    excerpt = preview.locator(".excerpt").inner_text()
    assert "The report lists 214 complaints." in excerpt
    assert "Most concern prisons in 4 regions." in excerpt
    first, second = (preview.locator(".excerpt p").nth(i).bounding_box() for i in (0, 1))
    assert first and second and second["y"] - (first["y"] + first["height"]) < first["height"]
    screenshot(page, "source-preview")
    page.click("#save-source button[name=save]")
    page.wait_for_url(story.served.url + "/sources")
    said = page.locator("p.notice[role=status]").inner_text()
    found = re.fullmatch(r"Watching (\S+) now\.", said)
    assert found, said
    name = found.group(1)
    assert page.locator(f'tr[id="source-{name}"] a').inner_text() == name  # no title yet
    assert state(story, name) == "active"
    assert page.script_errors == []
    screenshot(page, "source-saved")


# --- a viewer refused; a POST without its token refused ---------------------------------
def test_a_viewer_sees_no_editor_buttons_and_a_forced_post_is_refused(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER, "/sources")
    target = "viewer-target"
    assert page.locator(f'tr[id="source-{target}"]').count() == 1
    assert page.locator("#add-source").count() == 0
    assert page.locator("form[action$='/pause'], form[action$='/remove']").count() == 0
    token = page.locator("header form[action='/logout'] input[name=csrf]").input_value()
    assert len(token) >= 32  # the viewer's own, valid token: the role alone refuses
    answer = page.request.post(f"{story.served.url}/sources/{target}/pause",
                               form={"csrf": token}, max_redirects=0)
    assert answer.status == 403 and "needs the editor role" in answer.text()
    with page.expect_navigation() as navigation:
        page.evaluate("""([action, token]) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            const field = document.createElement('input');
            field.name = 'csrf';
            field.value = token;
            form.append(field);
            document.body.append(form);
            form.submit();
        }""", [f"/sources/{target}/pause", token])
    assert navigation.value is not None and navigation.value.status == 403
    assert "this needs the editor role; you are viewer" in page.inner_text("[role=alert]")
    assert state(story, target) == "active"
    assert page.script_errors == []
    screenshot(page, "viewer-refused")


def test_a_post_without_the_csrf_token_is_refused_in_the_browser(story, page) -> None:  # noqa: F811
    sign_in(page, story, EDITOR, "/sources")
    target = "csrf-target"
    pause = f"/sources/{target}/pause"
    statuses = page.evaluate("""async (pause) => [
        (await fetch(pause, {method: 'POST'})).status,
        (await fetch(pause, {method: 'POST', body: new URLSearchParams({pause: 'x'})})).status,
        (await fetch(pause, {method: 'POST', body: new URLSearchParams({csrf: 'forged'})})).status,
    ]""", pause)
    assert statuses == [403, 403, 403]
    assert state(story, target) == "active"
    # The same request with the page's token goes through: the token alone made the 403s.
    token = page.locator(f'form[action="{pause}"] input[name=csrf]').input_value()
    status = page.evaluate("""async ([pause, token]) =>
        (await fetch(pause, {method: 'POST', body: new URLSearchParams({csrf: token})})).status
    """, [pause, token])
    assert status == 200 and state(story, target) == "paused"
    page.evaluate("([pause, token]) => fetch(pause.replace('/pause', '/resume'), "
                  "{method: 'POST', body: new URLSearchParams({csrf: token})})", [pause, token])
    assert state(story, target) == "active"
    assert page.script_errors == []  # a 403 answer is no script error
    screenshot(page, "csrf-refused")


# --- hostile page text ------------------------------------------------------------------
HOSTILE_PAGES = {  # path -> where the hostile text shows as text
    "/": f'#board-rows tr[data-source="{HOSTILE_NAME}"] td.document a',
    f"/sources/{HOSTILE_NAME}": "h1",
    f"/sources/{HOSTILE_NAME}/versions/2": "#text",
    f"/sources/{HOSTILE_NAME}/diff?from=1&to=2": "#diff ins",
}


def test_a_page_whose_text_holds_script_shows_it_as_text_everywhere(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER)
    for path, where in HOSTILE_PAGES.items():
        page.goto(story.served.url + path)
        shown = page.locator(where).all_inner_texts()
        assert any(HOSTILE in text for text in shown), (path, shown)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("main script, img[src=x]").count() == 0, path
        assert path == "/" or HOSTILE in page.title(), page.title()
        screenshot(page, "hostile-" + (re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].strip("/"))
                                       or "board"))
    assert page.script_errors == []


def test_a_hostile_capture_runs_no_script_in_its_sandbox(story, page) -> None:  # noqa: F811
    sign_in(page, story, VIEWER)
    frame_errors: list[str] = []
    page.on("console", lambda msg: frame_errors.append(msg.location.get("url", ""))
            if msg.type == "error" else None)
    raw = f"{story.served.url}/sources/{HOSTILE_NAME}/versions/2/raw"
    with page.expect_response(raw) as answer:
        page.goto(f"{story.served.url}/sources/{HOSTILE_NAME}/versions/2/capture")
    assert answer.value.headers["content-security-policy"].startswith("sandbox")
    assert HOSTILE in page.inner_text("h1")
    iframe = page.locator("iframe#capture")
    assert iframe.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    assert frame.locator("#said").inner_text() == "no script ran"
    assert frame.title() == CAPTURED_TITLE
    assert page.evaluate("window.__pwned") is None
    assert page.title().startswith("Capture")
    # Whatever the console said came from the captured page (its blocked script), never
    # from the app's own page.
    assert all(url == raw for url in frame_errors), frame_errors
    assert any(e.startswith("Blocked script execution") for e in page.script_errors)
    screenshot(page, "hostile-capture")
