"""Masks: what a source says is not content, removed before and after extraction.

`ignore` entries are CSS selectors, or `regex:<pattern>` applied to the extracted
text (each match replaced by nothing, per paragraph and in the title). `volatile`
entries are CSS selectors learned to change on every load. Elements matched by any
selector are removed from the page before the text is extracted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bs4 import BeautifulSoup, Tag
from soupsieve import SelectorSyntaxError

from monitor.errors import ConfigError

REGEX_PREFIX = "regex:"


def css_masks(ignore: Iterable[str], volatile: Iterable[str]) -> list[str]:
    return [s for s in (*ignore, *volatile) if s.strip() and not s.startswith(REGEX_PREFIX)]


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


def remove_masked(soup: BeautifulSoup, selectors: Iterable[str]) -> None:
    """Remove every element that a selector matches (in place)."""
    for selector in selectors:
        for element in select(soup, selector):
            element.decompose()


def select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    try:
        return list(soup.select(selector))
    except SelectorSyntaxError as exc:
        raise ConfigError(f"CSS selector {selector!r} is not valid: {exc}") from None


def mask_text(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub("", text)
    return text
