"""What main-content extraction must not lose: the article's own paragraphs, and the
paragraph structure a reader sees.

trafilatura finds the main content well, but, tuned for precision, it prunes inside
it too: a list whose items are all links (a shop's product list), a block whose
class says "footer" or "bottom" (a closing contact paragraph), the tail of a long
list. An edit there went unrecorded. So, once trafilatura has answered, the
paragraphs it kept are found in the page's tree, the element holding all of them is
the article (or the `<article>` around it), and every paragraph of that element it
left out — after the first of its body, so bylines, breadcrumbs and counters above
the text stay out — is put back where it stands on the page. Navigation, forms,
asides, comments and share or "related" blocks inside the article stay out.

And a line break in the source of a paragraph is a space, as a browser shows it
(outside `<pre>` and `<textarea>`): trafilatura kept those of `<blockquote>` and
`<code>`, and each became a paragraph break, so re-wrapping the source read as
"paragraph added". `fold_whitespace` folds them before trafilatura reads the tree.
"""

from __future__ import annotations

import re

from monitor.normalize import normalize_text
from monitor.sources.blocks import Element, element_blocks, is_element, text_of

# Elements whose text keeps its line breaks when shown.
_PREFORMATTED = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})
_RUN_OF_SPACE = re.compile(r"[ \t\n\r\f]+")
# Inside the article, still not the article.
_NOT_ARTICLE_TAGS = frozenset({"nav", "form", "aside"})
_NOT_ARTICLE_NAMES = re.compile(
    r"comment|share|social|related|breadcrumb|categor|entry-meta|entry-footer|post-meta",
    re.IGNORECASE)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TOO_WIDE = frozenset({"html", "body"})
_TITLE_TAGS = ("h1", "h2", "h3")
_WORD = re.compile(r"[^\W_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum() refuses (same on every code point)
_LEAD_WORDS = 10
_LEAD_UNSPACED = 30
_UNSPACED_FROM = "\u2e80"  # CJK and after: scripts written without spaces between words
_LEAD_LINK_SHARE = 0.3
_LEAD_NAME_DEPTH = 2
_NOT_LEAD_NAMES = re.compile(
    r"caption|credit|copyright|foto|photo|image|img|media|author|byline|date|time|"
    r"newsletter|subscri|login|promo|advert|banner|notice", re.IGNORECASE)


def fold_whitespace(root: Element) -> Element:
    """Every run of whitespace in the tree's text, outside preformatted elements, made
    one space, in place: how a browser lays it out. Linear in the tree's size, however
    deep it nests."""
    # The elements themselves, not their id(): a set keeps lxml's proxies alive.
    kept = {inner for pre in root.iter(*_PREFORMATTED) for inner in pre.iter()}
    for element in root.iter():
        if not is_element(element):
            continue
        if element.text and element not in kept:
            element.text = _RUN_OF_SPACE.sub(" ", element.text)
        parent = element.getparent()
        if element.tail and (parent is None or parent not in kept):
            element.tail = _RUN_OF_SPACE.sub(" ", element.tail)
    return root


def restored(root: Element, lines: list[str]) -> list[str]:
    """`lines` (trafilatura's paragraphs of `root`, normalized) with the article's
    paragraphs it dropped put back in page order. `lines` as they are when they
    cannot be placed in the tree."""
    blocks = element_blocks(root)
    wanted = {_key(line) for line in lines} - {""}
    matched = [element for text, element in blocks if _key(text) in wanted]
    container = _container(matched)
    if container is None:
        return lines
    ordered = [(text, element) for text, element in blocks
               if _inside(element, container) and not _excluded(element, container)]
    return _merged(lines, _lead(blocks, container) + ordered)


def _merged(lines: list[str], ordered: list[tuple[str, Element]]) -> list[str]:
    keys = [_key(line) for line in lines]
    # Every word kept, in order: a block read inside a longer line is not put back. Whole
    # words, so that a short block ("Swiss") does not hide in a longer word ("Swissair")
    # and come back when an edit changes that word.
    everything = f" {' '.join(_words(line) for line in lines)} "
    after: dict[int, list[str]] = {}  # what is put back after each line (-1: before all)
    cursor = -1  # index of the last line seen, in page order
    started = False
    for text, element in ordered:
        key = _key(text)
        if not key:
            continue
        found = _next_index(keys, key, cursor)
        if found is not None:
            cursor = found
            started = started or element.tag not in _HEADINGS
        elif f" {_words(text)} " not in everything and (started or _lead_like(text, element)):
            after.setdefault(cursor, []).append(_as_trafilatura_writes(text, element))
    if not after:
        return lines
    return [*after.get(-1, ()),
            *(kept for i, line in enumerate(lines) for kept in (line, *after.get(i, ())))]


def _lead(blocks: list[tuple[str, Element]], container: Element) -> list[tuple[str, Element]]:
    """The blocks between the page's title and the article, when both lie in one part
    of the page narrower than its body: where a lead or standfirst stands when the body
    is a block of its own. The title is the last `<h1>` before the article (a site's
    logo may be one too), or, when that one shares nothing narrower than the body with
    the article, the last `<h2>` or `<h3>` before it."""
    before: list[int] = []
    for i, (_, element) in enumerate(blocks):
        if _inside(element, container):
            break
        if element.tag in _TITLE_TAGS:
            before.append(i)
    h1 = [i for i in before if blocks[i][1].tag == "h1"]
    others = [i for i in before if blocks[i][1].tag != "h1"]
    for start in (*h1[-1:], *others[-1:]):
        common = next((a for a in blocks[start][1].iterancestors() if _inside(container, a)),
                      None)
        if common is None or common.tag in _TOO_WIDE:
            continue
        lead = []
        for text, element in blocks[start + 1:]:
            if _inside(element, container):
                break
            if _inside(element, common) and not _excluded(element, _around(element, container)):
                lead.append((text, element))
        return lead
    return []


def _around(element: Element, container: Element) -> Element:
    """The innermost element holding both: the names above it are the article's too (a
    blog's `category-news` wrapper, say) and exclude nothing."""
    return next(a for a in element.iterancestors() if _inside(container, a))


def _lead_like(text: str, element: Element) -> bool:
    """A block above the article's first paragraph that reads as part of it (a lead, a
    standfirst): a sentence of ten words or more (or, in a script written without
    spaces, 30 characters), not mostly link text, and not named (it or the two
    elements around it) as a caption, credit, author box, date line or promotion.
    Bylines, dates, reading times, breadcrumbs and counters are shorter, or links."""
    if (len(text.split()) < _LEAD_WORDS
            and sum(ch >= _UNSPACED_FROM for ch in text) < _LEAD_UNSPACED):
        return False
    near = [element, *list(element.iterancestors())[:_LEAD_NAME_DEPTH]]
    if any(_NOT_LEAD_NAMES.search(f"{e.get('id') or ''} {e.get('class') or ''}")
           for e in near):
        return False
    linked = sum(len(normalize_text(text_of(a, " "))) for a in element.iter("a"))
    return linked < _LEAD_LINK_SHARE * len(text)


def _as_trafilatura_writes(text: str, element: Element) -> str:
    """A list item or table row put back reads as trafilatura writes one it keeps, so
    that the page's text does not change when it starts keeping them (an edit can
    tip its link-density test)."""
    if element.tag == "li":
        return f"- {text}"
    if element.tag == "tr":
        cells = [normalize_text(text_of(cell, " ")) for cell in element
                 if is_element(cell) and cell.tag in ("td", "th")]
        if cells:
            return "| " + " | ".join(cells) + " |"
    return text


def _next_index(keys: list[str], key: str, cursor: int) -> int | None:
    """The first line after `cursor` with this key, else the first anywhere."""
    for i in range(cursor + 1, len(keys)):
        if keys[i] == key:
            return i
    return None if key not in keys else keys.index(key)


def _container(matched: list[Element]) -> Element | None:
    """The innermost element holding every matched one (the nearest `<article>`
    around it, when there is one); None when that is the whole page."""
    if not matched:
        return None
    common = [matched[0], *matched[0].iterancestors()]
    for element in matched[1:]:
        mine = {id(element), *(id(a) for a in element.iterancestors())}
        common = [c for c in common if id(c) in mine]
    if not common:
        return None
    container = common[0]
    article = container if container.tag == "article" else next(
        container.iterancestors("article"), None)
    if article is not None:
        container = article
    return None if container.tag in _TOO_WIDE else container


def _inside(element: Element, container: Element) -> bool:
    return element is container or any(a is container for a in element.iterancestors())


def _excluded(element: Element, container: Element) -> bool:
    node: Element | None = element
    while node is not None and node is not container:
        if node.tag in _NOT_ARTICLE_TAGS:
            return True
        names = f"{node.get('id') or ''} {node.get('class') or ''}"
        if _NOT_ARTICLE_NAMES.search(names):
            return True
        node = node.getparent()
    return False


def _words(text: str) -> str:
    """The text's words (letters and digits), casefolded, one space between them."""
    return " ".join(_WORD.findall(text.casefold()))


def _key(text: str) -> str:
    """A paragraph as letters and digits only: trafilatura's list marks ("- ") and
    table bars ("| a | b |") aside, its line and the element's text compare equal."""
    return _NOT_ALNUM.sub("", text.casefold())
