"""Adapter for any web page."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bs4 import BeautifulSoup

from monitor.errors import FetchFailed
from monitor.normalize import normalize_document, normalize_text
from monitor.sources import masking
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.blocks import element_paragraphs, parse_html
from monitor.sources.maintext import main_paragraphs, page_date, page_title
from monitor.sources.volatile import volatile_selectors

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

DEFAULT_LEARN_DELAY = 3.0


class HtmlPage(SourceAdapter):
    """Any web page. With `selector`, the text of the matching elements (a paragraph
    per block element); without, the main content as found by trafilatura. Elements
    matching `ignore` CSS selectors or learned `volatile` ones are removed first;
    `ignore` entries written `regex:<pattern>` are cut from the extracted text.
    Uses conditional GET (ETag / Last-Modified) when the server supports it."""

    kind = "html"

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        answer = fetcher.get(spec.url, validators=previous, ca_bundle=spec.ca_bundle)
        if answer.not_modified:
            kept = answer.validators
            return NotModified(kept if kept.etag or kept.last_modified else previous or kept)
        soup = parse_html(answer.text())
        masking.remove_masked(soup, masking.css_masks(spec.ignore, spec.volatile))
        patterns = masking.text_masks(spec.ignore)
        masked_html = str(soup)
        extracted = _extract(spec, soup, masked_html, answer.url)
        paragraphs = [normalize_text(masking.mask_text(p, patterns)) for p in extracted]
        title = page_title(soup)
        if title is not None:
            title = normalize_text(masking.mask_text(title, patterns))
            if paragraphs and paragraphs[0] == title:  # the <h1> is the title, not body
                paragraphs = paragraphs[1:]
        document = normalize_document(title, page_date(masked_html, answer.url), paragraphs)
        return Capture(
            document=document,
            final_url=answer.url,
            raw=answer.content,
            content_type=answer.content_type,
            validators=answer.validators,
            redirects=answer.redirects,
        )

    def learn_volatile(self, spec: SourceSpec, fetcher: Fetcher) -> tuple[str, ...]:
        """spec.volatile plus the small elements whose text differs between two loads
        `options["learn_delay"]` seconds apart (default 3)."""
        delay = float(spec.options.get("learn_delay", DEFAULT_LEARN_DELAY))
        first = fetcher.get(spec.url, ca_bundle=spec.ca_bundle).text()
        time.sleep(delay)
        second = fetcher.get(spec.url, ca_bundle=spec.ca_bundle).text()
        learned = volatile_selectors(first, second)
        return tuple(dict.fromkeys((*spec.volatile, *learned)))


def _extract(spec: SourceSpec, soup: BeautifulSoup, masked_html: str, url: str) -> list[str]:
    """The selected elements' paragraphs, or the page's main content."""
    if spec.selector:
        selected = masking.select(soup, spec.selector)
        if not selected:
            raise FetchFailed("parse", f"{url}: selector {spec.selector!r} matched nothing")
        return [p for element in selected for p in element_paragraphs(element)]
    paragraphs = main_paragraphs(masked_html, url)
    if not paragraphs:
        raise FetchFailed("empty", f"{url}: no main content found on the page")
    return paragraphs
