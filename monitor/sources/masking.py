"""Masks: what a source says is not content, removed before and after extraction.

`ignore` entries are CSS selectors, or `regex:<pattern>` applied to the extracted
text (each match replaced by nothing, per paragraph and in the title). `volatile`
entries are CSS selectors learned to change on every load. Elements matched by any
selector are removed from the page before the text is extracted.

Selectors are translated to XPath by cssselect and compiled once: a source's whole
set of masks becomes one XPath union, evaluated in one walk of the tree, so every
selector matches the page as it was fetched (which is also the page the learned
selectors were computed on) and not one already cut by an earlier mask.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree

from monitor.errors import ConfigError
from monitor.sources.blocks import Element

REGEX_PREFIX = "regex:"
_CACHED = 1024  # distinct selector sets kept compiled (per thread)
_translator = HTMLTranslator()
_compiled = threading.local()  # lxml's XPath objects are not shared between threads


def css_masks(ignore: Iterable[str], volatile: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in (*ignore, *volatile) if s.strip() and not s.startswith(REGEX_PREFIX))


def text_masks(ignore: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    for entry in ignore:
        if entry.startswith(REGEX_PREFIX):
            source = entry[len(REGEX_PREFIX) :]
            try:
                patterns.append(re.compile(source))
            except re.error as exc:
                raise ConfigError(f"ignore pattern {source!r} is not a regex: {exc}") from None
    return patterns


def remove_masked(root: Element, selectors: tuple[str, ...]) -> None:
    """Remove every element that a selector matches (in place); the text that
    follows a removed element stays."""
    if not selectors:
        return
    for element in _query(selectors)(root):
        if element.getparent() is not None:
            element.drop_tree()
        else:  # the root itself: keep an empty <html>
            element.text = None
            for child in list(element):
                element.remove(child)


def select(root: Element, selector: str) -> list[Element]:
    """The elements `selector` matches, in document order."""
    return list(_query((selector,))(root))


def mask_text(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub("", text)
    return text


def _query(selectors: tuple[str, ...]) -> etree.XPath:
    cache: dict[tuple[str, ...], etree.XPath] | None = getattr(_compiled, "queries", None)
    if cache is None:
        cache = _compiled.queries = {}
    query = cache.get(selectors)
    if query is None:
        if len(cache) >= _CACHED:
            cache.clear()
        query = cache[selectors] = etree.XPath(_xpath(selectors))
    return query


@lru_cache(maxsize=_CACHED)
def _xpath(selectors: tuple[str, ...]) -> str:
    parts = []
    for selector in selectors:
        try:
            parts.append(_translator.css_to_xpath(selector))
        except SelectorError as exc:
            raise ConfigError(f"CSS selector {selector!r} is not valid: {exc}") from None
    # A <template>'s content is not part of the page (nor matched by CSS in a browser).
    return f"({' | '.join(parts)})[not(ancestor::template)]"
