"""The report page: `monitor report`'s filters as a form, the report in the app's
layout, the same report to download in four formats, hostile titles kept as text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from change_story import Story
from web_helpers import Client, serve
from web_story import ATOM, copied_store, entry_ids, section_ids, story_store

from monitor.store import EventStore


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("story")
    store, story = story_store(folder)
    store.engine.dispose()
    return folder / "monitor.db", story


@pytest.fixture
def reader(template: tuple[Path, Story], tmp_path: Path):  # type: ignore[no-untyped-def]
    """A viewer's client (by token: no password to hash), and the story."""
    store: EventStore = copied_store(template[0], tmp_path)
    with serve(store) as served:
        client = Client(served.url)
        client.headers["Authorization"] = f"Bearer {served.token('ivan', 'viewer')}"
        client.headers["Accept"] = "text/html"
        yield client, template[1]
    store.engine.dispose()


def test_the_report_page_shows_the_report_in_the_layout_and_its_filters_narrow(
    reader: tuple[Client, Story]
) -> None:
    client, story = reader
    everything = client.get("/report")
    assert everything.status_code == 200
    assert 'action="/report"' in everything.text and 'class="top"' in everything.text
    assert section_ids(everything.text) == set(story.changes)
    press = client.get("/report", params={"since": "", "source": "mfa-press"})
    assert section_ids(press.text) == {story.number_edit, story.title_edit}
    assert 'value="mfa-press"' in press.text
    assert '<a href="http' in press.text and "/sources/mfa-press/diff?from=1&amp;to=2" in press.text
    mfa = client.get("/report", params={"source": "mfa-*", "min_significance": "high"})
    shown = section_ids(mfa.text)
    assert shown and shown < {story.number_edit, story.title_edit, story.untitled_edit,
                              story.removed, story.hostile_edit}
    assert 'value="high" selected' in mfa.text
    future = client.get("/report", params={"since": "2999-01-01"})
    assert future.status_code == 200 and section_ids(future.text) == set()


@pytest.mark.parametrize(("params", "words"), [
    ({"since": "yesterday"}, "--since &#39;yesterday&#39;: use a period"),
    ({"until": "soon"}, "--until &#39;soon&#39;"),
    ({"min_significance": "huge"}, "use low, medium or high"),
    ({"source": "nothing-*"}, "matches no source"),
])
def test_a_bad_filter_gives_the_form_again_with_one_line(
    reader: tuple[Client, Story], params: dict[str, str], words: str
) -> None:
    client, _ = reader
    page = client.get("/report", params=params)
    assert page.status_code == 400
    assert 'action="/report"' in page.text and words in page.text
    error = page.text.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert "\n" not in error.strip() and "Traceback" not in page.text
    assert client.get("/report.json", params=params).status_code == 400


def test_hostile_titles_are_text_on_the_report_page(reader: tuple[Client, Story]) -> None:
    client, story = reader
    page = client.get("/report", params={"since": ""}).text
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Decree" in page
    assert "\x1b" not in page and "\u202e" not in page
    assert " style=" not in page  # the app's policy allows no inline style: classes only
    assert story.hostile_edit in section_ids(page)


def test_the_report_downloads_in_four_formats_with_their_types(
    reader: tuple[Client, Story]
) -> None:
    client, story = reader
    query = {"since": "", "source": "mfa-press"}
    as_json = client.get("/report.json", params=query)
    assert as_json.headers["content-type"] == "application/json"
    assert "attachment" in as_json.headers["content-disposition"]
    changes = json.loads(as_json.text)["changes"]
    assert [c["event_id"] for c in changes] == [story.number_edit, story.title_edit]
    assert changes[0]["links"]["diff"].endswith("/sources/mfa-press/diff?from=1&to=2")
    markdown = client.get("/report.md", params=query)
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "mfa-press" in markdown.text
    atom = client.get("/report.atom", params=query)
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert entry_ids(atom.text) == {story.number_edit, story.title_edit}
    feed_id = ET.fromstring(atom.text).findtext(f"{ATOM}id")
    assert feed_id == "urn:govkz-monitor:feed:source:mfa-press"
    html = client.get("/report.html", params=query)
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.startswith("<!DOCTYPE html>") and "<style>" in html.text
    policy = html.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy
    page = client.get("/report", params=query).text
    assert 'href="/report.md?since=&amp;until=&amp;source=mfa-press&amp;min_significance="' in page


def test_the_page_shows_the_newest_changes_and_the_download_holds_them_all(
    reader: tuple[Client, Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.web.routes import report

    client, story = reader
    monkeypatch.setattr(report, "PAGE_CHANGES", 2)
    page = client.get("/report", params={"since": ""}).text
    assert section_ids(page) == {story.removed, story.hostile_edit}
    assert "the newest 2" in page
    whole = client.get("/report.json", params={"since": ""}).json()
    assert [c["event_id"] for c in whole["changes"]] == story.changes
