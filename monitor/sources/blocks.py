"""HTML to paragraphs: one paragraph per block element, as a reader sees the page.

Block elements (p, div, li, headings, blockquote, table rows, …) and `<br>` end a
paragraph; inline elements run on. Scripts, styles, images and the captions of
images are not text. Entities are decoded by the parser; whitespace is normalized.

Pages are parsed once, by lxml (libxml2's HTML parser), and every later step —
masks, title, selected elements, date, main text — reads that one tree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TypeAlias

import lxml.html
from lxml import etree

from monitor.normalize import markup_bytes, normalize_text

BLOCK_TAGS = frozenset(
    """address article aside blockquote caption center dd details dialog div dl dt
    fieldset figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre
    section summary table tbody thead tfoot tr ul""".split()
)
NOT_TEXT_TAGS = frozenset(
    """script style noscript template img picture svg canvas iframe video audio source
    object embed map head title meta link button select option input textarea""".split()
)
# Elements whose strings are not "content" when the text of an enclosing element is
# read (what BeautifulSoup's get_text() leaves out, which stored texts were made with).
STRING_CONTAINERS = frozenset({"rt", "rp", "style", "script", "template"})
_CELL_TAGS = frozenset({"td", "th"})
_IMAGE_TAGS = ("img", "picture", "svg", "video")
# One parser per thread, never one shared by all (that crashed a check process with
# "double free or corruption"): libxml2 puts every tag and attribute name in a
# dictionary that has no lock, and lxml gives a thread, at its first parse, the
# dictionary of the parser it parses with, which for a shared parser is the one of
# the thread that used it last; so threads came to share one, parsing into it with
# the GIL released while another renamed elements in a tree of its own. A parser made
# in the thread brings a dictionary of its own. See tests/test_parse_threads.py.
_parsers = threading.local()


def _parser() -> lxml.html.HTMLParser:
    parser: lxml.html.HTMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        # Bytes in, with the encoding stated: a <meta charset> or an XML declaration in
        # the page cannot make libxml2 decode the already-decoded text a second time.
        parser = _parsers.parser = lxml.html.HTMLParser(
            encoding="utf-8", collect_ids=False, default_doctype=False)
        # A first parse now, so that this thread takes this parser's dictionary even
        # when its first page is read by a library's shared parser (python-docx).
        lxml.html.document_fromstring(b"<html></html>", parser=parser)
    return parser


def claim_own_dictionary() -> None:
    """Give the calling thread a libxml2 name dictionary of its own, if its first parse
    is still to come: call before a library parses with a parser shared by threads."""
    _parser()

Element: TypeAlias = lxml.html.HtmlElement


def parse_html(markup: str | bytes) -> Element:
    """The page's <html> element. Never raises: an empty page is an empty <html>."""
    data = markup_bytes(markup) if isinstance(markup, str) else markup
    try:
        root = lxml.html.document_fromstring(data, parser=_parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        root = lxml.html.document_fromstring(b"<html></html>", parser=_parser())
    return root


def fragment_paragraphs(markup: str) -> list[str]:
    """Paragraphs of an HTML fragment or a whole document (its body)."""
    root = parse_html(markup)
    body = root.find("body")
    return element_paragraphs(body if body is not None else root)


def is_element(node: object) -> bool:
    """An element, not a comment (libxml2 reads `<?…>` in HTML as a comment too)."""
    return isinstance(getattr(node, "tag", None), str)


def element_paragraphs(root: Element) -> list[str]:
    """Paragraphs of one element. Iterative, so hostile nesting depth cannot crash it."""
    return [text for text, _ in element_blocks(root)]


def element_blocks(root: Element) -> list[tuple[str, Element]]:
    """Paragraphs of one element, each with the innermost block element it was read
    from (`root` for text outside every block). Whitespace inside a block's text, line
    breaks of the source included, is one space; a block's end and `<br>` (one or
    several in a row) end a paragraph."""
    paragraphs: list[tuple[str, Element]] = []
    pending: list[str] = []
    blocks: list[Element] = [root]  # the blocks open around the text being read

    def flush() -> None:
        text = normalize_text("".join(pending))
        pending.clear()
        if text:
            paragraphs.append((text, blocks[-1]))

    # Items: an element to enter, a string to add, or None: the end of a block.
    stack: list[Element | str | None] = [root]
    while stack:
        item = stack.pop()
        if item is None:
            flush()
            blocks.pop()
            continue
        if isinstance(item, str):
            pending.append(item)
            continue
        node = item
        if node is not root and node.tail:
            stack.append(node.tail)  # the text after it belongs to its parent
        if not is_element(node) or node.tag in NOT_TEXT_TAGS or _is_image_caption(node):
            continue
        if node.tag in ("br", "hr"):
            flush()
            continue
        if node.tag in _CELL_TAGS:
            pending.append(" ")
        if node.tag in BLOCK_TAGS:
            flush()
            blocks.append(node)
            stack.append(None)
        stack.extend(reversed(node))
        if node.text:
            stack.append(node.text)
    flush()
    return paragraphs


def text_of(element: Element, separator: str = "") -> str:
    """The element's text as a reader sees it: its strings joined by `separator`,
    without comments, and without what string containers (scripts, styles, ruby
    annotations) hold unless `element` is one itself."""
    return separator.join(strings(element))


def strings(element: Element) -> Iterator[str]:
    # A string counts when the innermost container around it, anywhere up the page,
    # is `element` itself, or there is none and `element` is no container either.
    own = str(element.tag) if element.tag in STRING_CONTAINERS else None
    # Items: (a node to enter, or a string to yield; the container it lies in).
    stack: list[tuple[Element | str, str | None]] = [(element, _container_of(element))]
    while stack:
        item, container = stack.pop()
        if isinstance(item, str):
            if container == own:
                yield item
            continue
        if item is not element and item.tail:
            stack.append((item.tail, container))
        if not is_element(item):
            continue
        inner = str(item.tag) if item.tag in STRING_CONTAINERS else container
        stack.extend((child, inner) for child in reversed(item))
        if item.text:
            stack.append((item.text, inner))


def own_strings(element: Element) -> Iterator[str]:
    """The strings directly inside `element`, not inside its child elements."""
    if element.text:
        yield element.text
    for child in element:
        if child.tail:
            yield child.tail


def _container_of(node: Element | None) -> str | None:
    """The innermost string container enclosing `node` (itself included), or None."""
    while node is not None:
        if node.tag in STRING_CONTAINERS:
            return str(node.tag)
        node = node.getparent()
    return None


def _is_image_caption(element: Element) -> bool:
    if element.tag != "figcaption":
        return False
    figure = next(element.iterancestors("figure"), None)
    return figure is not None and next(figure.iter(*_IMAGE_TAGS), None) is not None
