"""The visual diff (monitor/visual_diff.py): two real screenshots of a local page before
and after an edit, taken by Debian's chromium with the layout a script computes in the
page (contract §3 of issue 15), the changed paragraph boxed from the layout or, without
one, from the pixels; and the web app serving it beside the text diff."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from browser import chromium, page  # noqa: F401  (fixtures)
from PIL import Image, ImageChops
from web_helpers import PASSWORD, Client, Served, serve

from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import ChangeDetected, Event, SourceRegistered, VersionCaptured
from monitor.screenshots import Screenshot, version_screenshot
from monitor.store import EventStore, migrate, open_store
from monitor.store.snapshots import Blob
from monitor.visual_diff import (
    CHANGED,
    MAX_PIXELS,
    MAX_SEARCHES,
    PAD,
    WEB_WIDTH,
    VisualDiffError,
    changed_regions,
    fits,
    visual_diff,
)
from monitor.web.accounts.users import add_user
from monitor.web.routes.diffs import changed_texts

PARAGRAPHS = [
    "The ministry held a conference on human rights in Astana.",
    "The conference gathered 120 participants from twelve countries.",
    "Minister Artur Lastayev opened it with a speech on the new law.",
    "The next conference is planned for the spring.",
]
EDITED = 1  # 120 -> 150
AFTER = [p.replace("120", "150") for p in PARAGRAPHS]
PAGE = """<!doctype html><html><head><style>
body {{ margin: 0; background: #fff; color: #111; font: 20px/1.5 sans-serif; }}
main {{ width: 900px; margin: 40px; }} p {{ margin: 0 0 220px; }}
</style></head><body><main><h1>Human rights conference</h1>{paragraphs}</main></body></html>"""
# Contract §3: each block element that directly holds text, its folded text and its box.
LAYOUT_SCRIPT = """() => {
  const blocks = [];
  for (const el of document.querySelectorAll(
      "p,li,h1,h2,h3,h4,h5,h6,td,dd,blockquote,pre,div")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = el.getBoundingClientRect();
    const text = el.innerText.replace(/\\s+/g, " ").trim();
    if (!text || r.width <= 0 || r.height <= 0) continue;
    blocks.push({text, box: [Math.round(r.left + scrollX), Math.round(r.top + scrollY),
                             Math.round(r.width), Math.round(r.height)]});
  }
  const root = document.documentElement;
  return {width: root.scrollWidth, height: root.scrollHeight, blocks};
}"""


@dataclass(frozen=True)
class Shots:
    before: Screenshot
    after: Screenshot


def _shot(tab: Any, paragraphs: list[str]) -> Screenshot:
    tab.set_content(PAGE.format(paragraphs="".join(f"<p>{p}</p>" for p in paragraphs)))
    layout = tab.evaluate(LAYOUT_SCRIPT)
    png = tab.screenshot(full_page=True)
    width, height = Image.open(io.BytesIO(png)).size
    return Screenshot(Blob.raw(png).sha256, png, width, height, layout)


@pytest.fixture(scope="module")
def shots(chromium: Any) -> Shots:  # noqa: F811
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        return Shots(_shot(tab, PARAGRAPHS), _shot(tab, AFTER))
    finally:
        context.close()


def _box_of(shot: Screenshot, text: str) -> tuple[int, int, int, int]:
    assert shot.layout is not None
    x, y, w, h = next(b["box"] for b in shot.layout["blocks"] if b["text"] == text)
    return x, y, x + w, y + h


def _inside(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] \
        and inner[3] <= outer[3]


def _overlaps(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def _tinted(pixel: tuple[int, ...]) -> bool:
    """A white pixel under the translucent magenta fill: red stays high, green drops."""
    return pixel[0] > 200 and pixel[0] - pixel[1] > 25


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- from the layout ----------------------------------------------------------------------
def test_the_box_lands_on_the_edited_paragraph(shots: Shots) -> None:
    changed, _ = changed_texts(diff_documents(Document(None, None, tuple(PARAGRAPHS)),
                                              Document(None, None, tuple(AFTER))))
    assert changed == [AFTER[EDITED]]
    regions = changed_regions(shots.before, shots.after, changed)
    edited = _box_of(shots.after, AFTER[EDITED])
    assert regions.source == "layout" and len(regions.boxes) == 1
    box = regions.boxes[0]
    assert _inside(edited, box) and box[1] >= edited[1] - PAD and box[3] <= edited[3] + PAD
    for other in (p for i, p in enumerate(AFTER) if i != EDITED):
        assert not _overlaps(box, _box_of(shots.after, other))

    shown = _image(visual_diff(shots.before, shots.after, changed))
    scale = WEB_WIDTH / shots.after.width
    assert shown.width == WEB_WIDTH
    # A blank spot at the right end of the edited paragraph's line is tinted; the same
    # spot on the next paragraph, and the page's margin, are as the screenshot has them.
    right = round((edited[2] - 10) * scale)
    assert _tinted(shown.getpixel((right, round((edited[1] + edited[3]) / 2 * scale))))
    assert shown.getpixel((round(box[0] * scale) + 1, round(box[1] * scale) + 1)) == CHANGED
    following = _box_of(shots.after, AFTER[EDITED + 1])
    assert shown.getpixel((right, round((following[1] + following[3]) / 2 * scale))) \
        == (255, 255, 255)
    assert shown.getpixel((5, 5)) == (255, 255, 255)


def test_a_removed_paragraph_is_a_bar_beside_its_neighbour(shots: Shots) -> None:
    layout = dict(shots.after.layout or {})
    layout["blocks"] = [b for b in layout["blocks"] if b["text"] != AFTER[2]]
    shortened = replace(shots.after, layout=layout)
    regions = changed_regions(shots.before, shortened, [], removed=[PARAGRAPHS[2]])
    # The paragraph before it was edited (not on the new page as it was): the bar is
    # above the one after it.
    below = _box_of(shots.after, AFTER[3])
    assert regions.source == "layout" and regions.boxes == () and len(regions.removed) == 1
    bar = regions.removed[0]
    assert below[1] - 10 <= bar[1] < bar[3] <= below[1] and bar[0] == below[0]
    shown = _image(visual_diff(shots.before, shortened, [], removed=[PARAGRAPHS[2]]))
    scale = WEB_WIDTH / shots.after.width
    assert shown.getpixel((round((bar[0] + 20) * scale), round((bar[1] + 2) * scale)))[0] > 180


LONG = " ".join(f"Article {n} of the decree sets the fee for permit {n}." for n in range(90))


def test_a_paragraph_split_across_blocks_masked_or_retyped_is_still_found() -> None:
    blank = _png(Image.new("RGB", (1280, 900), "white"))
    layout = {"width": 1280, "height": 900, "blocks": [
        {"text": "Menu", "box": [0, 0, 1280, 40]},
        {"text": "The ministry announced", "box": [40, 100, 600, 30]},
        {"text": "the new rules for permits.", "box": [40, 130, 600, 30]},
        {"text": "Updated 12.03.2025 10:15 Visas are issued in five days.",
         "box": [40, 300, 800, 30]},
        {"text": "He said \u00abyes\u00bb to the plan.", "box": [40, 500, 800, 30]},
        {"text": LONG[:2000], "box": [40, 600, 800, 200]},  # the capture keeps 2000 characters
        {"text": "Footer", "box": [0, 850, 1280, 50]}]}
    shot = Screenshot("x", blank, 1280, 900, layout)
    found = changed_regions(None, shot, [
        "The ministry announced the new rules for permits.",  # split in two blocks
        "Visas are issued in five days.",  # its block also holds a masked date
        'He said "yes" to the plan.',  # the extraction made the quotes plain
        LONG,  # longer than the block's text the capture kept
    ])
    assert found.source == "layout" and found.unplaced == ()
    assert [b[1] for b in found.boxes] == [100 - PAD, 300 - PAD, 500 - PAD, 600 - PAD]
    assert found.boxes[0][3] == 160 + PAD  # both halves, merged into one box


def test_a_malformed_or_hostile_layout_is_read_as_far_as_it_goes() -> None:
    blank = _png(Image.new("RGB", (800, 600), "white"))
    layout = {"width": 800, "blocks": [
        "not a block", {"text": 5, "box": [0, 0, 1, 1]}, {"text": "a", "box": "0 0 1 1"},
        {"text": "Too big", "box": [0, 0, 1e300, float("nan")]},
        {"text": "Off the page", "box": [5000, 5000, 10, 10]},
        {"text": "Negative box", "box": [10, 10, -50, 20]},
        {"text": "True text here", "box": [True, 0, 10, 10]},
        {"text": "The real one", "box": [-20, 400, 900, 40]}]}
    found = changed_regions(None, Screenshot("x", blank, 800, 600, layout),
                            ["Too big", "Off the page", "The real one", "Negative box"])
    assert found.boxes == ((0, 400 - PAD, 800, 440 + PAD),)
    assert set(found.unplaced) == {"Too big", "Off the page", "Negative box"}
    dated = {"width": 800, "blocks": [{"text": "2025-12-12", "box": [0, 0, 100, 20]}]}
    assert changed_regions(None, Screenshot("x", blank, 800, 600, dated),
                           ["2025-12-11"]).unplaced == ("2025-12-11",)  # close is not enough
    assert changed_regions(None, Screenshot("x", blank, 800, 600, {"blocks": "no"}),
                           ["x"]).source == "none"


def test_past_the_search_budget_only_exact_texts_are_found() -> None:
    blank = _png(Image.new("RGB", (800, 600), "white"))
    layout = {"width": 800, "blocks": [
        {"text": "Exactly as extracted.", "box": [10, 100, 500, 30]},
        {"text": "He said \u00abyes\u00bb to the plan.", "box": [10, 300, 500, 30]}]}
    shot = Screenshot("x", blank, 800, 600, layout)
    retyped = 'He said "yes" to the plan.'
    assert len(changed_regions(None, shot, [retyped]).boxes) == 1
    absent = [f"Paragraph {n} is nowhere on this page." for n in range(MAX_SEARCHES)]
    found = changed_regions(None, shot, [*absent, retyped, "Exactly as extracted."])
    assert found.boxes == ((10 - PAD, 100 - PAD, 510 + PAD, 130 + PAD),)
    assert found.unplaced == (*absent, retyped)


# --- from the pixels ----------------------------------------------------------------------
def test_without_a_layout_the_image_difference_finds_the_edit(shots: Shots) -> None:
    before, after = replace(shots.before, layout=None), replace(shots.after, layout=None)
    regions = changed_regions(before, after, [AFTER[EDITED]])
    edited = _box_of(shots.after, AFTER[EDITED])
    assert regions.source == "pixels" and regions.boxes
    assert all(_overlaps(box, edited) for box in regions.boxes)
    for other in (p for i, p in enumerate(AFTER) if i != EDITED):
        assert not any(_overlaps(box, _box_of(shots.after, other)) for box in regions.boxes)
    # A layout that has none of the changed texts falls back to the pixels too.
    assert changed_regions(shots.before, shots.after, ["Not on the page at all"]).source \
        == "pixels"


def test_identical_screenshots_give_no_box(shots: Shots) -> None:
    regions = changed_regions(shots.after, shots.after, [])
    assert regions == changed_regions(replace(shots.after, layout=None),
                                      replace(shots.after, layout=None), ["x"])
    assert regions.boxes == () and regions.removed == () and regions.source == "none"
    shown = _image(visual_diff(shots.after, shots.after, []))
    red, green, _ = shown.split()  # nowhere is red well above green: no magenta at all
    assert ImageChops.subtract(red, green).point(lambda v: 255 if v > 25 else 0).getbbox() \
        is None


def test_a_longer_new_page_has_its_extra_part_boxed() -> None:
    old, new = Image.new("RGB", (1000, 800), "white"), Image.new("RGB", (1000, 1400), "white")
    regions = changed_regions(Screenshot("a", _png(old), 1000, 800, None),
                              Screenshot("b", _png(new), 1000, 1400, None), [])
    assert regions.source == "pixels"
    assert len(regions.boxes) == 1 and regions.boxes[0][1] <= 800 <= regions.boxes[0][3] - 500


# --- bounded cost -------------------------------------------------------------------------
def _claimed(width: int, height: int) -> bytes:
    """A PNG that says it is width x height in its header, with almost nothing after:
    a hostile page's bomb (or a real 30000-px-tall screenshot) as far as the header goes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_30000_px_tall_page_is_refused_before_it_is_decoded() -> None:
    tall = Screenshot("t", _claimed(1280, 30000), 1280, 30000, None)
    started = time.perf_counter()
    with pytest.raises(VisualDiffError, match=r"1280x30000 px, more than .* too large"):
        visual_diff(None, tall, [])
    with pytest.raises(VisualDiffError, match=r"^old screenshot: .*too large"):
        changed_regions(tall, replace(tall, png=_png(Image.new("RGB", (10, 10)))), [])
    assert time.perf_counter() - started < 0.5  # its header only: 115 MB were never decoded
    assert not fits(tall) and MAX_PIXELS < 1280 * 30000
    assert fits(replace(tall, png=_claimed(1280, MAX_PIXELS // 1280)))
    with pytest.raises(VisualDiffError, match="not a readable PNG"):
        visual_diff(None, replace(tall, png=b"<html>not a png</html>"), [])
    with pytest.raises(VisualDiffError, match="not a readable PNG"):  # within the cap, cut short
        visual_diff(None, replace(tall, png=_claimed(1280, 800)), [])


def test_a_wide_screenshot_is_scaled_down_for_the_web() -> None:
    wide = Screenshot("w", _png(Image.new("RGB", (2560, 1000), "white")), 2560, 1000, None)
    assert _image(visual_diff(None, wide, [])).size == (WEB_WIDTH, 375)


# --- the web app --------------------------------------------------------------------------
NAME = "mfa-rights"
HUGE = Screenshot(Blob.raw(_claimed(1280, 30000)).sha256, _claimed(1280, 30000), 1280, 30000,
                  None)


def _append(store: EventStore, events: list[Event], blobs: list[Blob]) -> None:
    store.append(NAME, store.stream_version(NAME), events, blobs=blobs)


def _version(shot: Screenshot | None, doc: Document) -> tuple[VersionCaptured, list[Blob]]:
    text = Blob.text(doc.canonical_text())
    raw = Blob.raw(("<html>" + doc.canonical_text() + "</html>").encode())
    blobs, evidence = [text, raw], {}
    if shot is not None:
        png, layout = Blob.raw(shot.png), Blob.raw(json.dumps(shot.layout).encode())
        blobs += [png] if shot.layout is None else [png, layout]
        evidence = {"screenshot": {"sha256": png.sha256, "media_type": "image/png",
                                   "width": shot.width, "height": shot.height,
                                   "layout": None if shot.layout is None else layout.sha256}}
    return VersionCaptured(content_hash=text.sha256, url="https://example.kz/rights",
                           title="Human rights conference", raw_hash=raw.sha256,
                           content_type="text/html", evidence=evidence), blobs


@pytest.fixture(scope="module")
def served(shots: Shots, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('visual') / 'monitor.db'}",
                       check_schema=False)
    migrate.upgrade(store.engine)
    store.append(NAME, 0, [SourceRegistered(name=NAME, url="https://example.kz/rights",
                                            kind="html", interval_seconds=900)])
    docs = [Document("Human rights conference", None, tuple(p)) for p in (PARAGRAPHS, AFTER)]
    first, blobs = _version(shots.before, docs[0])
    _append(store, [first], blobs)
    second, blobs = _version(shots.after, docs[1])
    change = diff_documents(*docs)
    _append(store, [second, ChangeDetected(
        from_hash=first.content_hash, to_hash=second.content_hash,
        significance=change.significance, classes=change.classes, summary=change.summary(),
        change=change.to_stored())], blobs)
    third, blobs = _version(None, Document("Human rights conference", None, tuple(AFTER[:2])))
    _append(store, [third], blobs)
    # Versions 4 and 5: screenshots without a layout, the second a 30000-px-tall one.
    for shot, paragraphs in ((shots.after, AFTER[:1]), (HUGE, AFTER[:3])):
        version, blobs = _version(replace(shot, layout=None), Document(
            "Human rights conference", None, tuple(paragraphs)))
        _append(store, [version], blobs)
    # Version 6 names a screenshot the store does not hold (what `monitor verify` reports).
    lost, blobs = _version(replace(shots.after, png=b"\x89PNG never stored", layout=None),
                           Document("Human rights conference", None, tuple(AFTER[:2])))
    _append(store, [lost], [b for b in blobs if b.sha256 != Blob.raw(b"\x89PNG never stored")
                            .sha256])
    with serve(store) as found:
        yield found
    store.engine.dispose()


def test_the_diff_page_shows_the_visual_diff_served_as_a_png(served: Served,
                                                            shots: Shots) -> None:
    viewer = served.user("vera", "viewer")
    assert version_screenshot(served.store.engine, NAME, 2) == shots.after
    html = viewer.get(f"/sources/{NAME}/diff?from=1&to=2")
    assert html.status_code == 200
    assert f'<img src="/sources/{NAME}/visual-diff?from=1&amp;to=2"' in html.text
    assert 'class="diff-columns with-visual"' in html.text

    answer = viewer.get(f"/sources/{NAME}/visual-diff?from=1&to=2")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "sandbox" in answer.headers["content-security-policy"]
    shown = _image(answer.content)
    edited, scale = _box_of(shots.after, AFTER[EDITED]), WEB_WIDTH / shots.after.width
    assert _tinted(shown.getpixel((round((edited[2] - 10) * scale),
                                   round((edited[1] + edited[3]) / 2 * scale))))
    assert viewer.get(f"/sources/{NAME}/visual-diff?from=1&to=2").content == answer.content


def test_without_screenshots_there_is_no_image_and_the_route_says_why(served: Served) -> None:
    viewer = served.user("vic", "viewer")
    html = viewer.get(f"/sources/{NAME}/diff?from=2&to=3")
    assert html.status_code == 200 and "visual-diff" not in html.text
    missing = viewer.get(f"/sources/{NAME}/visual-diff?from=2&to=3")
    assert missing.status_code == 404 and "Version 3 has no screenshot." in missing.text
    assert viewer.get(f"/sources/{NAME}/visual-diff?from=2&to=1").status_code == 400
    assert viewer.get(f"/sources/{NAME}/visual-diff?from=1&to=9").status_code == 404


def test_the_visual_diff_needs_a_login(served: Served) -> None:
    refused = Client(served.url).get(f"/sources/{NAME}/visual-diff?from=1&to=2",
                                     allow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_a_russian_reader_reads_the_caption_in_russian(served: Served) -> None:
    viewer = served.user("rita", "viewer")
    html = viewer.get(f"/sources/{NAME}/diff?from=1&to=2", headers={"Accept-Language": "ru"})
    assert html.status_code == 200 and "<figcaption>" in html.text
    caption = html.text.split("<figcaption>")[1].split("</figcaption>")[0]
    assert "version" not in caption and "верси" in caption



def test_a_screenshot_too_large_to_compare_is_said_so_not_decoded(served: Served) -> None:
    viewer = served.user("hugo", "viewer")
    html = viewer.get(f"/sources/{NAME}/diff?from=4&to=5")
    assert html.status_code == 200
    assert "The screenshots are too large to compare here." in html.text
    assert "<img" not in html.text.split('id="visual-diff"')[1].split("</figure>")[0]
    refused = viewer.get(f"/sources/{NAME}/visual-diff?from=4&to=5")
    assert refused.status_code == 422
    assert ("The screenshots cannot be compared: new screenshot: the screenshot is "
            "1280x30000 px") in refused.text


def test_the_texts_looked_for_are_the_new_paragraphs_and_title_not_the_date() -> None:
    old = Document("Decree", "2025-12-11", ("Kept.", "Edited 120.", "Removed here.", "Moved."))
    new = Document("Decree No. 5", "2025-12-12", ("Moved.", "Kept.", "Edited 150.", "Added."))
    changed, removed = changed_texts(diff_documents(old, new))
    assert sorted(changed) == ["Added.", "Decree No. 5", "Edited 150.", "Moved."]
    assert removed == ["Removed here."]


def test_in_a_browser_the_image_loads_beside_the_text_and_under_it_when_narrow(
        served: Served, page: Any) -> None:  # noqa: F811
    add_user(served.store.engine, "bea", "viewer", PASSWORD)
    path = f"/sources/{NAME}/diff?from=1&to=2"
    page.goto(served.url + path)
    page.fill("input[name=name]", "bea")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + path)
    page.wait_for_function("document.querySelector('#visual-diff img').complete")
    assert page.eval_on_selector("#visual-diff img", "img => img.naturalWidth") == WEB_WIDTH
    text, image = page.locator("#diff").bounding_box(), page.locator("#visual-diff").bounding_box()
    assert image["x"] >= text["x"] + text["width"] and image["y"] < text["y"] + text["height"]
    page.set_viewport_size({"width": 600, "height": 900})
    text, image = page.locator("#diff").bounding_box(), page.locator("#visual-diff").bounding_box()
    assert image["y"] >= text["y"] + text["height"] and image["width"] <= 600
    assert page.script_errors == []  # no policy refused the image


def test_a_screenshot_missing_from_the_store_leaves_the_text_diff_alone(served: Served) -> None:
    viewer = served.user("lou", "viewer")
    html = viewer.get(f"/sources/{NAME}/diff?from=5&to=6")
    assert html.status_code == 200 and 'class="hunk' in html.text
    assert "visual-diff" not in html.text
    lost = viewer.get(f"/sources/{NAME}/visual-diff?from=5&to=6")
    assert lost.status_code == 400 and "is missing from the store" in lost.text
