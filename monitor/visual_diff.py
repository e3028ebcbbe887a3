"""The visual difference of two screenshots of a changed page: the new screenshot with
the changed regions boxed (issue 15, contract §5).

Where the boxes come from, best first:

1. The new screenshot's layout (contract §3: each block of text and its box on the PNG).
   Each changed paragraph of the text diff is looked up among the blocks: the same text
   once whitespace and case are folded; else the block that holds it (a paragraph the
   extraction cut out of a larger block); else the blocks it is made of (a paragraph
   spread over several blocks); else the closest block by rapidfuzz's ratio (a
   paragraph with masked parts). A removed paragraph has no place in the new page: it
   is found in the old layout, and a bar is drawn where its nearest neighbour that is
   still there ends (or begins). Past MAX_SEARCHES texts not found as they are, the
   rest are only looked up exactly.
2. Without a layout, or when no changed text was found in it: the pixels. Both images
   are reduced to about WORK_WIDTH px wide and compared (ImageChops.difference over the
   common area, thresholded); the changed rows are grouped into bands and each band's
   changed columns into boxes (at most MAX_BOXES). Where the new page is taller or
   wider than the old one, the extra part is boxed whole.

Cost is bounded: a screenshot over MAX_PIXELS decoded pixels (1280 x 16384, 84 MB
decoded: Pillow keeps 4 bytes a pixel) is refused with VisualDiffError before anything
is decoded (the PNG header gives its size), so a hostile 30000-px-tall page cannot make
the web app decode it; the image diff runs on the reduced images; at most MAX_BLOCKS
layout blocks are read and at most MAX_SEARCHES texts searched among them (a whole page
rewritten, 5000 blocks: under a second); the result is at most WEB_WIDTH px wide. One
full-size screenshot is decoded at a time (the new one is reduced and scaled before the
old one is read): a pair at the cap peaked 136 MB over the process's own (that
screenshot and the 960-px result) and took 2 s on a busy 2-core machine.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageDraw
from rapidfuzz import fuzz, process

from monitor.errors import MonitorError
from monitor.screenshots import Screenshot

__all__ = ["MAX_PIXELS", "Regions", "VisualDiffError", "changed_regions", "fits",
           "visual_diff"]

MAX_PIXELS = 1280 * 16384  # decoded pixels of one screenshot; more is refused
MAX_BLOCKS = 5000  # layout blocks read; a page with more is read that far
MAX_SEARCHES = 100  # texts looked for beyond an exact match (~8 ms each over 5000 blocks)
WEB_WIDTH = 960  # the result's width at most, for a web page
WORK_WIDTH = 320  # the image diff compares the screenshots reduced to about this width
THRESHOLD = 24  # a grey-level difference (0-255) that counts as changed, once reduced
GAP = 3  # reduced px: changed rows (or columns) closer than this make one box
MAX_BOXES = 40  # boxes the image diff draws at most
PAD = 6  # px around each box, on the screenshot's scale
MIN_TEXT = 8  # characters: a shorter text is not looked for inside others
FUZZY = 80  # rapidfuzz ratio (0-100) for a block to count as the changed paragraph
MIN_FUZZY = 20  # characters: a shorter text only matches exactly ('2025-12-11' is not '-12')
NEIGHBOURS = 5  # blocks looked at on each side of a removed paragraph
CHANGED = (230, 0, 120)  # magenta: a box around what changed
REMOVED = (200, 30, 30)  # red: a bar where something was removed
STRIP = 1024  # rows of the result scaled at a time
FILL_ALPHA = 56  # of 255: the boxes' fill, so the text under them stays readable

Box = tuple[int, int, int, int]  # left, top, right, bottom on the new screenshot, in px


class VisualDiffError(MonitorError):
    """A screenshot cannot be compared: not a PNG, or larger than MAX_PIXELS."""


@dataclass(frozen=True)
class Regions:
    boxes: tuple[Box, ...]  # what changed
    removed: tuple[Box, ...]  # thin bars where removed paragraphs were
    source: str  # "layout", "pixels", or "none" (nothing to box)
    unplaced: tuple[str, ...] = ()  # changed or removed texts the layout had no place for


def fits(shot: Screenshot) -> bool:
    """Whether the screenshot is a PNG within MAX_PIXELS: reads its header only."""
    try:
        _size(shot.png)
    except VisualDiffError:
        return False
    return True


def visual_diff(old: Screenshot | None, new: Screenshot, changed: list[str],
                removed: Sequence[str] = ()) -> bytes:
    """A PNG: the new screenshot (at most WEB_WIDTH px wide) with the changed regions
    boxed. `changed` are the new version's changed paragraph texts, `removed` the old
    version's removed ones. Raises VisualDiffError for a screenshot it will not read."""
    image = _decode(new.png, "new")
    size, work = image.size, _reduced(image)
    scale = min(1.0, WEB_WIDTH / image.width)
    if scale < 1.0:
        image = _shrunk(image, scale)
    regions = _regions(old, new, size, work, changed, removed)  # one full image at a time
    draw = ImageDraw.Draw(image)
    line = max(2, round(3 * scale))
    for box in regions.boxes:  # merged: none overlaps another, so each is tinted once
        left, top, right, bottom = _scaled(box, scale)
        area = (left, top, right + 1, bottom + 1)
        tint = Image.new("RGB", (area[2] - left, area[3] - top), CHANGED)
        image.paste(Image.blend(image.crop(area), tint, FILL_ALPHA / 255), area)
        draw.rectangle((left, top, right, bottom), outline=CHANGED, width=line)
    for box in regions.removed:
        left, top, right, bottom = _scaled(box, scale)
        draw.rectangle((left, top, right, max(bottom, top + 2 * line)), fill=REMOVED)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def changed_regions(old: Screenshot | None, new: Screenshot, changed: Sequence[str],
                    removed: Sequence[str] = ()) -> Regions:
    """The boxes `visual_diff` draws, on the new screenshot's own pixels."""
    image = _decode(new.png, "new")
    return _regions(old, new, image.size, _reduced(image), changed, removed)


def _regions(old: Screenshot | None, new: Screenshot, size: tuple[int, int],
             work: Image.Image, changed: Sequence[str], removed: Sequence[str]) -> Regions:
    """`size`: the new screenshot's; `work`: it reduced for the image diff."""
    found = _from_layout(old, new, size, changed, removed)
    if found is not None and (found.boxes or found.removed):
        return found
    if old is None:
        return found or Regions((), (), "none")
    boxes = _from_pixels(_reduced(_decode(old.png, "old"), size[0]), work, size)
    return Regions(tuple(_padded(boxes, size)), (), "pixels" if boxes else "none")


def _shrunk(image: Image.Image, scale: float) -> Image.Image:
    """The image scaled down to WEB_WIDTH, a strip at a time: a whole-image resize
    holds an intermediate as large as the output again."""
    height = max(1, round(image.height * scale))
    shown = Image.new("RGB", (WEB_WIDTH, height))
    for top in range(0, height, STRIP):
        bottom = min(height, top + STRIP)
        source = (0, top / scale, image.width, min(image.height, bottom / scale))
        shown.paste(image.resize((WEB_WIDTH, bottom - top), Image.Resampling.BILINEAR,
                                 box=source), (0, top))
    return shown


def _factor(width: int) -> int:
    """How much the image diff reduces a screenshot `width` px wide."""
    return max(1, math.ceil(width / WORK_WIDTH))


def _reduced(image: Image.Image, width: int | None = None) -> Image.Image:
    """The image in grey, reduced by the factor of the new screenshot's `width`."""
    return image.reduce(_factor(width or image.width)).convert("L")


# --- from the layout --------------------------------------------------------------------
def _from_layout(old: Screenshot | None, new: Screenshot, size: tuple[int, int],
                 changed: Sequence[str], removed: Sequence[str]) -> Regions | None:
    blocks = _blocks(new.layout, size)
    if not blocks:
        return None
    searches = [MAX_SEARCHES]  # shared by the changed and the removed texts
    now = _Texts([text for text, _ in blocks], searches)
    boxes: list[Box] = []
    unplaced: list[str] = []
    for paragraph in changed:
        places = now.place(paragraph)
        boxes.extend(blocks[i][1] for i in places)
        if not places and paragraph.strip():
            unplaced.append(paragraph)
    bars: list[Box] = []
    before = _Texts([t for t, _ in _blocks(old.layout, (1, 1))] if old else [], searches)
    for paragraph in removed:
        bar = _where_removed(paragraph, before, blocks)
        if bar is None:
            unplaced.append(paragraph)
        else:
            bars.append(bar)
    return Regions(tuple(_padded(boxes, size)), tuple(bars), "layout", tuple(unplaced))


def _blocks(layout: Any, size: tuple[int, int]) -> list[tuple[str, Box]]:
    """The layout's usable blocks: folded text and a box clipped to the image, scaled
    from the layout's width to the image's. Anything malformed is left out."""
    if not isinstance(layout, dict) or not isinstance(layout.get("blocks"), list):
        return []
    width = layout.get("width")
    scale = size[0] / width if isinstance(width, int | float) and _number(width) \
        and width > 0 and size[0] > 1 else 1.0
    found: list[tuple[str, Box]] = []
    for block in layout["blocks"][:MAX_BLOCKS]:
        if not isinstance(block, dict) or not isinstance(block.get("text"), str):
            continue
        box = block.get("box")
        if not (isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)):
            continue
        x, y, w, h = (v * scale for v in box)
        left, top = max(0, math.floor(x)), max(0, math.floor(y))
        right, bottom = math.ceil(x + w), math.ceil(y + h)
        if size != (1, 1):  # the old layout is read for its texts only
            right, bottom = min(size[0], right), min(size[1], bottom)
        text = _fold(block["text"])
        if text and right > left and bottom > top:
            found.append((text, (left, top, right, bottom)))
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) and abs(value) < 1e7


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Texts:
    """A layout's folded texts, and where a paragraph is among them."""

    def __init__(self, texts: list[str], searches: list[int]) -> None:
        self.texts = texts
        self.first: dict[str, int] = {}
        for index, text in enumerate(texts):
            self.first.setdefault(text, index)
        self.searches = searches  # [how many searches are left]

    def place(self, paragraph: str) -> list[int]:
        """Indices of the blocks that show `paragraph`, the best way first."""
        want, texts = _fold(paragraph), self.texts
        if not want:
            return []
        if want in self.first:
            return [self.first[want]]
        if self.searches[0] <= 0:
            return []
        self.searches[0] -= 1
        if len(want) >= MIN_TEXT:
            holding = [i for i, text in enumerate(texts) if want in text]
            if holding:  # the smallest block holding it: the innermost
                return [min(holding, key=lambda i: len(texts[i]))]
            parts = [i for i, text in enumerate(texts) if len(text) >= MIN_TEXT and text in want]
            if parts:
                return parts
        if len(want) < MIN_FUZZY:
            return []
        best = process.extractOne(want, texts, scorer=fuzz.ratio, score_cutoff=FUZZY)
        return [best[2]] if best is not None else []


def _where_removed(paragraph: str, before: _Texts, blocks: list[tuple[str, Box]]
                   ) -> Box | None:
    """A bar in the new page where `paragraph` was: under the nearest block before it in
    the old layout that the new page still has, else above the nearest one after it."""
    places = before.place(paragraph)
    if not places:
        return None
    where, texts = places[0], before.texts
    now = dict(reversed(blocks))  # the first block of each text
    for step in range(1, NEIGHBOURS + 1):
        if where - step >= 0 and texts[where - step] in now:
            left, _, right, bottom = now[texts[where - step]]
            return (left, bottom + 2, right, bottom + 6)
        if where + step < len(texts) and texts[where + step] in now:
            left, top, right, _ = now[texts[where + step]]
            return (left, max(0, top - 6), right, max(0, top - 2))
    return None


# --- from the pixels --------------------------------------------------------------------
def _from_pixels(old: Image.Image, new: Image.Image, size: tuple[int, int]) -> list[Box]:
    """Boxes around what differs between the reduced screenshots, on the new one's
    pixels (`size`)."""
    factor = _factor(size[0])
    width, height = min(old.width, new.width), min(old.height, new.height)
    found: list[Box] = []
    if width and height:
        difference = ImageChops.difference(old.crop((0, 0, width, height)),
                                           new.crop((0, 0, width, height)))
        mask = difference.point([0] * (THRESHOLD + 1) + [255] * (255 - THRESHOLD))
        if mask.getbbox() is not None:
            found = _segments(mask)
    if new.height > height:  # the new page is longer: the rest is new
        found.append((0, height, new.width, new.height))
    if new.width > width:
        found.append((width, 0, new.width, height))
    return [(left * factor, top * factor, min(size[0], right * factor),
             min(size[1], bottom * factor)) for left, top, right, bottom in found]


def _segments(mask: Image.Image) -> list[Box]:
    """Boxes around the changed (non-zero) pixels of `mask`: bands of changed rows,
    each cut into runs of changed columns, each box shrunk to what it holds."""
    boxes: list[Box] = []
    for top, bottom in _runs(_profile(mask)):
        band = mask.crop((0, top, mask.width, bottom))
        for left, right in _runs(_profile(band.transpose(Image.Transpose.TRANSPOSE))):
            inner = band.crop((left, 0, right, bottom - top)).getbbox()
            if inner is not None:
                boxes.append((left + inner[0], top + inner[1], left + inner[2], top + inner[3]))
    if len(boxes) > MAX_BOXES:  # too scattered to box one by one: the first, the rest as one
        rest = boxes[MAX_BOXES - 1:]
        boxes = [*boxes[:MAX_BOXES - 1], (min(b[0] for b in rest), min(b[1] for b in rest),
                                          max(b[2] for b in rest), max(b[3] for b in rest))]
    return boxes


def _profile(mask: Image.Image) -> list[bool]:
    """For each row of `mask`, whether any of its pixels is set."""
    data, width = mask.tobytes(), mask.width
    empty = bytes(width)
    return [data[row * width:(row + 1) * width] != empty for row in range(mask.height)]


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """[start, end) runs of set flags, joined across gaps shorter than GAP."""
    runs: list[tuple[int, int]] = []
    for index, flag in enumerate(flags):
        if not flag:
            continue
        if runs and index - runs[-1][1] < GAP:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


# --- shared -----------------------------------------------------------------------------
def _padded(boxes: list[Box], size: tuple[int, int]) -> list[Box]:
    """Each box grown by PAD (within the image), and the overlapping ones merged."""
    grown = [(max(0, a - PAD), max(0, b - PAD), min(size[0], c + PAD), min(size[1], d + PAD))
             for a, b, c, d in boxes]
    merged: list[Box] = []
    for box in sorted(grown, key=lambda b: (b[1], b[0])):
        while True:
            other = next((m for m in merged if box[0] <= m[2] and m[0] <= box[2]
                          and box[1] <= m[3] and m[1] <= box[3]), None)
            if other is None:
                break
            merged.remove(other)
            box = (min(box[0], other[0]), min(box[1], other[1]),
                   max(box[2], other[2]), max(box[3], other[3]))
        merged.append(box)
    return merged


def _scaled(box: Box, scale: float) -> Box:
    return (round(box[0] * scale), round(box[1] * scale),
            max(round(box[0] * scale), round(box[2] * scale) - 1),
            max(round(box[1] * scale), round(box[3] * scale) - 1))


def _size(png: bytes) -> tuple[int, int]:
    """The PNG's size from its header, refused above MAX_PIXELS; nothing is decoded."""
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise VisualDiffError(f"the screenshot is not a readable PNG ({exc})") from None
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise VisualDiffError(f"the screenshot is {width}x{height} px, more than "
                              f"{MAX_PIXELS} pixels: too large to compare")
    return width, height


def _decode(png: bytes, which: str) -> Image.Image:
    """The PNG as RGB, decoded only once its header says it fits MAX_PIXELS."""
    try:
        _size(png)
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            image.load()
            return image if image.mode == "RGB" else image.convert("RGB")
    except VisualDiffError as exc:
        raise VisualDiffError(f"{which} screenshot: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise VisualDiffError(f"{which} screenshot: not a readable PNG ({exc})") from None
