"""The main content of an arbitrary page: its paragraphs, title and publication date.

Paragraphs come from trafilatura, tuned for precision (navigation, comments and
boilerplate are worse for a watchdog than a missed sidebar); the title from
og:title, the first <h1> or <title>; the date only from markup made for it
(meta tags, <time>), never guessed from the page's text, where a clock lives.
"""

from __future__ import annotations

import logging

import htmldate
import trafilatura
from bs4 import BeautifulSoup

from monitor.normalize import normalize_text

# trafilatura and htmldate log every page they find thin; a monitor's log is not the place.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


def main_paragraphs(html_text: str, url: str | None = None) -> list[str]:
    """Main-content paragraphs, or [] when the page has none that can be told apart."""
    text = trafilatura.extract(
        html_text,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    if not text:
        return []
    return [line for line in (normalize_text(raw) for raw in text.splitlines()) if line]


def page_title(soup: BeautifulSoup) -> str | None:
    og = soup.find("meta", attrs={"property": "og:title"})
    if og is not None:
        content = og.get("content")
        if isinstance(content, str) and normalize_text(content):
            return normalize_text(content)
    for tag in ("h1", "title"):
        element = soup.find(tag)
        if element is not None and normalize_text(element.get_text(" ")):
            return normalize_text(element.get_text(" "))
    return None


def page_date(html_text: str, url: str | None = None) -> str | None:
    """Publication date (YYYY-MM-DD) from the page's markup, or None."""
    found = htmldate.find_date(
        html_text, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d"
    )
    return found or None
