"""HTML to paragraphs: one paragraph per block element, as a reader sees the page.

Block elements (p, div, li, headings, blockquote, table rows, …) and `<br>` end a
paragraph; inline elements run on. Scripts, styles, images and the captions of
images are not text. Entities are decoded by the parser; whitespace is normalized.
"""

from __future__ import annotations

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from monitor.normalize import normalize_text

BLOCK_TAGS = frozenset(
    """address article aside blockquote caption center dd details dialog div dl dt
    fieldset figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre
    section summary table tbody thead tfoot tr ul""".split()
)
NOT_TEXT_TAGS = frozenset(
    """script style noscript template img picture svg canvas iframe video audio source
    object embed map head title meta link button select option input textarea""".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_IMAGE_TAGS = ("img", "picture", "svg", "video")


def parse_html(markup: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(markup, "lxml")


def fragment_paragraphs(markup: str) -> list[str]:
    """Paragraphs of an HTML fragment or a whole document (its body)."""
    soup = parse_html(markup)
    return element_paragraphs(soup.body or soup)


def element_paragraphs(root: Tag) -> list[str]:
    """Paragraphs of one element. Iterative, so hostile nesting depth cannot crash it."""
    paragraphs: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        text = normalize_text("".join(pending))
        pending.clear()
        if text:
            paragraphs.append(text)

    stack: list[tuple[PageElement, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
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
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return paragraphs


def _is_image_caption(tag: Tag) -> bool:
    if tag.name != "figcaption":
        return False
    figure = tag.find_parent("figure")
    return figure is not None and figure.find(_IMAGE_TAGS) is not None
