"""Adapter for any web page."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.content import decode
from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.normalize import normalize_document, normalize_text
from monitor.removal import judge_text
from monitor.sources import masking
from monitor.sources.base import Capture, NotModified, SourceAdapter, SourceSpec, Validators
from monitor.sources.blocks import Element, element_paragraphs, parse_html
from monitor.sources.credentials import auth_headers
from monitor.sources.pagekey import page_key
from monitor.sources.reltime import without_relative_times
from monitor.sources.volatile import volatile_selectors

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

DEFAULT_LEARN_DELAY = 3.0


class HtmlPage(SourceAdapter):
    """Any web page. With `selector`, the text of the matching elements (a paragraph
    per block element); without, the main content as found by trafilatura. Elements
    matching `ignore` CSS selectors or learned `volatile` ones are removed first;
    `ignore` entries written `regex:<pattern>` are cut from the extracted text.
    Uses conditional GET (ETag / Last-Modified) when the server supports it, and
    skips the extraction when the masked page is the one that gave the current text.
    A page behind HTTP Basic auth: `auth_env` names the environment variable that
    holds `user:password` (never put them in the URL, which the log keeps). With
    `render = true`, the page as a browser shows it once its scripts ran."""

    kind = "html"
    page_keys = True
    takes_credentials = True

    def capture(
        self, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None = None
    ) -> Capture | NotModified:
        answer = fetcher.get(spec.url, validators=previous, ca_bundle=spec.ca_bundle,
                             headers=auth_headers(spec))
        if answer.not_modified:
            kept = answer.validators
            return NotModified(kept if kept.etag or kept.last_modified else previous or kept)
        # One parse; masks, title, selection, date and main text all read this tree.
        root = parse_html(answer.text())
        masking.remove_masked(root, masking.css_masks(spec.ignore, spec.volatile))
        key = page_key(spec, answer.url, root)
        validators = replace(answer.validators, page_key=key)
        if previous is not None and previous.knows(key):
            return NotModified(validators)
        document = self._document(spec, root, answer.url, answer.status)
        captured = Capture(
            document=document,
            final_url=answer.url,
            raw=answer.content,
            content_type=answer.content_type,
            validators=validators,
            redirects=answer.redirects,
        )
        from monitor.render.response import Rendered  # here: it imports monitor.fetch

        if isinstance(answer, Rendered):  # what the browser saw besides: monitor.render
            captured = replace(captured, main_document=answer.main_document,
                               screenshot=answer.screenshot, layout=answer.layout,
                               evidence={"rendered": dict(answer.rendered)})
        return captured

    def reread(self, spec: SourceSpec, raw: bytes, url: str) -> Document:
        """The document a stored page gives under `spec`'s masks (no fetch): a
        version read again when its masks change, so the change of masks is not
        taken for a change of the page on the next check."""
        root = parse_html(decode(raw, None))
        masking.remove_masked(root, masking.css_masks(spec.ignore, spec.volatile))
        return self._document(spec, root, url)

    def _document(self, spec: SourceSpec, root: Element, url: str,
                  status: int = 200) -> Document:
        # Imported here, past the page key: trafilatura and htmldate are a tenth of a
        # second to import, which a pass of unchanged pages never needs to pay.
        from monitor.sources import maintext

        patterns = masking.text_masks(spec.ignore)
        title = maintext.page_title(root)
        try:
            selected = _selected(spec, root, url) if spec.selector else None
            page = maintext.as_page_text_reads(root)
            published = maintext.page_date(page, url)
            extracted = selected if selected is not None else _main_text(page, url)
        except FetchFailed:
            _refuse_not_found_page(title, [], url, status)  # a not-found page has no article
            raise
        # A relative time the learner never saw (a page learned before it knew them).
        extracted = without_relative_times(extracted)
        paragraphs = extracted  # normalized already; a regex mask may leave spaces to fold
        if patterns:
            masked_title, *masked = masking.mask_texts((title or "", *extracted), patterns)
            paragraphs = [normalize_text(p) for p in masked]
            title = None if title is None else normalize_text(masked_title)
        if title is not None and paragraphs and paragraphs[0] == title:
            paragraphs = paragraphs[1:]  # the <h1> is the title, not body
        _refuse_not_found_page(title, paragraphs, url, status)
        return normalize_document(title, published, paragraphs)

    def learn_volatile(self, spec: SourceSpec, fetcher: Fetcher) -> tuple[str, ...]:
        """spec.volatile plus what differs between three loads: two
        `options["learn_delay"]` seconds apart (default 3), for clocks and counters,
        and a third at once, so that a banner rotating among a few texts that came up
        the same twice is still caught (see monitor.sources.volatile). This waits
        between the loads; a pass splits it instead (learn_first, then learn_from)."""
        first = self.learn_first(spec, fetcher)
        time.sleep(self.learn_after(spec))
        return self.learn_from(spec, fetcher, first)

    def learn_after(self, spec: SourceSpec) -> float:
        return float(spec.options.get("learn_delay", DEFAULT_LEARN_DELAY))

    def learn_first(self, spec: SourceSpec, fetcher: Fetcher) -> str:
        return fetcher.get(spec.url, ca_bundle=spec.ca_bundle, headers=auth_headers(spec)).text()

    def learn_from(self, spec: SourceSpec, fetcher: Fetcher, first: str) -> tuple[str, ...]:
        headers = auth_headers(spec)
        second = fetcher.get(spec.url, ca_bundle=spec.ca_bundle, headers=headers).text()
        third = fetcher.get(spec.url, ca_bundle=spec.ca_bundle, headers=headers).text()
        learned = volatile_selectors(first, second, third)
        return tuple(dict.fromkeys((*spec.volatile, *learned)))


def _refuse_not_found_page(title: str | None, paragraphs: list[str], url: str,
                           status: int) -> None:
    """A 200 whose whole text is the site's not-found message is `not_found`."""
    judged = judge_text(title, paragraphs, url=url, status=status)
    if judged is not None:
        raise FetchFailed("not_found", f"{url}: {judged.said}", status=status,
                          judged_by=judged.judged_by, evidence=judged.evidence)


def _selected(spec: SourceSpec, root: Element, url: str) -> list[str]:
    """The paragraphs of the elements `spec.selector` matches."""
    assert spec.selector
    selected = masking.select(root, spec.selector)
    if not selected:
        raise FetchFailed("parse", f"{url}: selector {spec.selector!r} matched nothing")
    return [p for element in selected for p in element_paragraphs(element)]


def _main_text(root: Element, url: str) -> list[str]:
    """The page's main content. Last of the steps: it drops the tree's comments."""
    from monitor.sources import maintext

    paragraphs = maintext.main_paragraphs(maintext.without_comments(root), url)
    if not paragraphs:
        raise FetchFailed("empty", f"{url}: no main content found on the page")
    return paragraphs
