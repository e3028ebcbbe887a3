"""Where each block of text was on the screenshot (ISSUE15 contract §3): a small
script run in the page once it is rendered, and the PNG's own size."""

from __future__ import annotations

import json
import struct
from typing import Any

# Block elements that directly hold text (a text node child that is not only
# whitespace), in document order; boxes in CSS px of the whole page (the viewport's
# box plus the scroll offsets), which is the full-page PNG's pixels at device scale 1.
LAYOUT_SCRIPT = """() => {
  const blocks = new Set(["P", "LI", "H1", "H2", "H3", "H4", "H5", "H6", "TD", "TH", "DD",
                          "DT", "BLOCKQUOTE", "PRE", "DIV", "SECTION", "ARTICLE", "FIGCAPTION",
                          "CAPTION", "ADDRESS"]);
  const found = [];
  const sx = window.scrollX, sy = window.scrollY;
  for (const el of document.body ? document.body.querySelectorAll("*") : []) {
    if (!blocks.has(el.tagName)) continue;
    let direct = false;
    for (const node of el.childNodes) {
      if (node.nodeType === 3 && node.textContent.trim()) { direct = true; break; }
    }
    if (!direct) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) continue;
    const text = (el.innerText || el.textContent || "").replace(/\\s+/g, " ").trim();
    if (!text) continue;
    found.push({text: text, box: [Math.round(r.left + sx), Math.round(r.top + sy),
                                  Math.round(r.width), Math.round(r.height)]});
  }
  return found;
}"""

MAX_BLOCKS = 5000  # a page of more blocks keeps its first ones
MAX_BLOCK_TEXT = 2000  # characters of one block's text


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk. ValueError for what is not a PNG."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def layout_json(blocks: Any, width: int, height: int) -> bytes:
    """The layout as stored: compact UTF-8 JSON, the page's blocks checked and capped
    (they came from a script in an untrusted page)."""
    kept: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, list) else ():
        if len(kept) >= MAX_BLOCKS:
            break
        if not isinstance(block, dict):
            continue
        text, box = block.get("text"), block.get("box")
        if (not isinstance(text, str) or not isinstance(box, list) or len(box) != 4
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in box)):
            continue
        kept.append({"text": text[:MAX_BLOCK_TEXT], "box": box})
    return json.dumps({"width": width, "height": height, "blocks": kept},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
