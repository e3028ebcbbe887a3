"""The text of a gov.kz API item: its `body` (or `content`) HTML string, as paragraphs.

That string is whatever the portal's editors pasted: a fragment most of the time, but
also a whole `<html>` document, or one after some text, or two in a row; entities of
every kind (`&nbsp;`, `&laquo;`, `&#151;`, without their `;`), sometimes escaped twice
(`&amp;laquo;`); tags left open or closed twice. It is read with BeautifulSoup on
Python's `html.parser`, not with lxml as pages are:

- `html.parser` keeps every part of the string where it stands. libxml2 builds one
  document, so the content of a second `<html>…</html>` in the string is dropped;
  here every element is walked, and only `head`, `title`, scripts and the like are not
  text (the same rules as a page: `monitor.sources.blocks`).
- Its entities are Python's `html.unescape`, the HTML5 table and rules, whatever
  libxml2 the installed lxml bundles (libxml2 decoded entities the HTML4 way before 2.14).
- Text still holding the entity of a typographic character (`&laquo;`, `&nbsp;`,
  `&mdash;` …) after parsing was escaped twice; that entity is decoded once more. Any
  other entity-like text (`&amp;`, `&lt;`, `&#1;`) may be what the text says: kept.

The cost (a few times lxml's CPU on a body; `python -m bench.api_body_bench`) is paid
once per checked gov.kz item, beside a JSON API round trip; whole pages, the hot path,
stay on lxml.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from monitor.normalize import normalize_text
from monitor.sources.blocks import BLOCK_TAGS, NOT_TEXT_TAGS

if TYPE_CHECKING:  # bs4 is imported on the first body (~0.1 s): html checks never pay it
    from bs4.element import PageElement, Tag

_CELL_TAGS = frozenset({"td", "th"})
_IMAGE_TAGS = ("img", "picture", "svg", "video")
# What is left of an entity escaped twice once the parser decoded the first escape, for
# the typographic characters the CMS writes as entities. Only those: a text may mean
# "&amp;", "&lt;" or "&#1;" literally (and is kept as it said), never "&laquo;".
_ESCAPED = re.compile(r"&(?:laquo|raquo|lsaquo|rsaquo|ldquo|rdquo|bdquo|lsquo|rsquo|sbquo|"
                      r"ndash|mdash|nbsp|hellip|numero);")


def body_paragraphs(markup: str) -> list[str]:
    """Paragraphs of an API item's HTML string: one per block element, as a reader sees
    it. Never raises on any string."""
    if markup.rfind("<!--") > markup.rfind("-->"):
        markup += "-->"  # a comment left open runs to the end (HTML5), it is not text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    return [_unescaped(p) for p in _paragraphs(soup)]


def _unescaped(paragraph: str) -> str:
    if "&" not in paragraph:
        return paragraph
    return normalize_text(_ESCAPED.sub(lambda m: html.unescape(m[0]), paragraph))


def _paragraphs(root: Tag) -> list[str]:
    """Iterative, so hostile nesting depth cannot crash it."""
    from bs4.element import NavigableString, PreformattedString, Tag

    paragraphs: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        text = normalize_text("".join(pending))
        pending.clear()
        if text:
            paragraphs.append(text)

    # Items: an element or string to enter, or None: the end of a block.
    stack: list[PageElement | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                pending.append(str(node))
            continue
        if not isinstance(node, Tag) or node.name in NOT_TEXT_TAGS or _is_image_caption(node):
            continue
        if node.name in ("br", "hr"):
            flush()
            continue
        if node.name in _CELL_TAGS:
            pending.append(" ")
        if node.name in BLOCK_TAGS:
            flush()
            stack.append(None)
        stack.extend(reversed(node.contents))
    flush()
    return paragraphs


def _is_image_caption(tag: Tag) -> bool:
    if tag.name != "figcaption":
        return False
    figure = tag.find_parent("figure")
    return figure is not None and figure.find(_IMAGE_TAGS) is not None
