"""The main content of an arbitrary page: its paragraphs, title and publication date.

Paragraphs come from trafilatura, tuned for precision (navigation, comments and
boilerplate are worse for a watchdog than a missed sidebar); the title from
og:title, the first <h1> or <title>; the date only from markup made for it
(meta tags, <time>), never guessed from the page's text, where a clock lives.
"""

from __future__ import annotations

import logging
from copy import copy

import htmldate
import lxml.html.defs
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from monitor.normalize import normalize_text
from monitor.sources.blocks import Element, is_element, text_of
from monitor.sources.dropped import fold_whitespace, restored

log = logging.getLogger(__name__)
# trafilatura and htmldate log every page they find thin; a monitor's log is not the place.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


# trafilatura's settings, read from its config once (building them is a good part of
# a small page's extraction); each call gets a copy carrying its own URL.
_SETTINGS = Extractor(
    output_format="txt",
    precision=True,
    comments=False,
    tables=True,
    images=False,
    links=False,
    dedup=False,
    with_metadata=False,
)


def main_paragraphs(root: Element, url: str | None = None) -> list[str]:
    """Main-content paragraphs, or [] when the page has none that can be told apart.

    Takes the page's tree (trafilatura works on a copy of it) without its comments,
    as trafilatura's own parser would have read the page; see `without_comments`.
    Precision over recall: navigation, comments and boilerplate are worse for a
    watchdog than a missed sidebar; but what trafilatura prunes inside the article
    itself is put back, and a line break in a paragraph's source is a space (see
    `monitor.sources.dropped`). The tree's whitespace is folded in place.
    """
    settings = copy(_SETTINGS)
    settings.url = url
    settings.source = url and url.encode("utf-8", "replace").decode("utf-8")
    text = trafilatura.extract(fold_whitespace(root), options=settings)
    if not text:
        return []
    lines = [line for line in (normalize_text(raw) for raw in text.splitlines()) if line]
    return restored(root, lines)


def as_page_text_reads(root: Element) -> Element:
    """The tree trafilatura and htmldate made when they were handed the page's text (as
    they were before the page was parsed once for all), so that a page reads as it
    always has. They parse with lxml.html.fromstring, which takes a page that opens
    with neither <html> nor a doctype (a comment first) and has no <head> for a
    fragment: the body's only element, or the body renamed <div> (or <span>)."""
    if (root.find("head") is not None or root.getroottree().docinfo.doctype
            or next(root.itersiblings(preceding=True), None) is None):
        return root
    body = root.find("body")
    if body is None:
        return root
    elements = [child for child in body if is_element(child)]
    if (len(elements) == 1 and not (body.text or "").strip()
            and not (elements[0].tail or "").strip()):
        return elements[0]
    blocks = lxml.html.defs.block_tags
    body.tag = "div" if any(e.tag in blocks for e in body.iter() if is_element(e)) else "span"
    return body


def without_comments(root: Element) -> Element:
    """Drop the comments in place, the text around each one joined up."""
    etree.strip_tags(root, etree.Comment)
    return root


def page_title(root: Element) -> str | None:
    og = next((m for m in root.iter("meta") if m.get("property") == "og:title"), None)
    if og is not None:
        content = og.get("content")
        if isinstance(content, str) and normalize_text(content):
            return normalize_text(content)
    for tag in ("h1", "title"):
        element = next(root.iter(tag), None)
        if element is not None and normalize_text(text_of(element, " ")):
            return normalize_text(text_of(element, " "))
    return None


def page_date(root: Element, url: str | None = None) -> str | None:
    """Publication date (YYYY-MM-DD) from the page's markup, or None. htmldate copies
    the tree before it prunes anything."""
    try:
        found = htmldate.find_date(
            root, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d"
        )
    except (AssertionError, ValueError, TypeError) as exc:
        # A hostile page must not stop the check: htmldate's own asserts (dropping the
        # root of a page that is one <svg>, say) mean "no date found".
        log.debug("htmldate failed on %s: %r", url, exc)
        return None
    return found or None
