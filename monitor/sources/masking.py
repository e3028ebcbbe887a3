"""Masks: what a source says is not content, removed before and after extraction.

`ignore` entries are CSS selectors, or `regex:<pattern>` applied to the extracted
text (each match replaced by nothing, per paragraph and in the title). `volatile`
entries are CSS selectors learned to change on every load. Elements matched by any
selector are removed from the page before the text is extracted. An entry written
`<selector> @<attribute>` removes only that attribute from the matching elements
(a cache-busting `?v=123` in an asset's URL, a CSRF token in a meta tag's content):
the element and its text stay.

Selectors are translated to XPath by cssselect and compiled once: a source's whole
set of masks becomes one XPath union, evaluated in one walk of the tree, so every
selector matches the page as it was fetched (which is also the page the learned
selectors were computed on) and not one already cut by an earlier mask.

An entry written `xpath:<expression>` is an XPath 1.0 expression instead of a CSS
selector (what urlwatch and changedetection.io filters often are): only the elements it
selects count (a text node or an attribute selects nothing), and it is compiled without
lxml's EXSLT regular expressions, so it cannot run a pattern of its own on a page.

`regex:` patterns are the user's, run on a page's text: they are compiled by the
`regex` module (VERSION0: the syntax of `re`), which takes a time limit, so a pattern
that backtracks without end on some page (`(a|aa)+$` on forty `a`s and a `!`) fails
that check in PATTERN_SECONDS instead of holding it for ever.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache

import regex
from cssselect import HTMLTranslator, SelectorError
from lxml import etree

from monitor.errors import ConfigError, FetchFailed
from monitor.sources.blocks import Element

REGEX_PREFIX = "regex:"
XPATH_PREFIX = "xpath:"
ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][-\w:.]*")
_ATTRIBUTE_MASK = re.compile(rf"^(?P<selector>.*\S)\s+@(?P<attribute>{ATTRIBUTE_NAME.pattern})$")
PATTERN_SECONDS = 1.0  # what one `regex:` pattern may take on one page
_CACHED = 1024  # distinct selector sets kept compiled (per thread)
_translator = HTMLTranslator()
# What an XPath is run on when it is given: conditions on the usual elements and
# attributes are evaluated (an unknown function in one fails here), though a page's own
# markup can still reach one this does not (see _run).
_SAMPLE_PAGE = etree.fromstring(
    '<html lang="ru"><head><title>t</title><meta name="m" content="c"/></head><body>'
    '<div id="i" class="c" style="s"><h1>h</h1><p>p <a href="/h" title="t">a</a>'
    '<span>s</span></p><ul><li>l</li></ul><table><tr><td>d</td></tr></table></div>'
    '<section><article><main>m</main></article></section></body></html>')
_compiled = threading.local()  # lxml's XPath objects are not shared between threads


def css_masks(ignore: Iterable[str], volatile: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in (*ignore, *volatile) if s.strip() and not s.startswith(REGEX_PREFIX))


def text_masks(ignore: Iterable[str]) -> list[regex.Pattern[str]]:
    return [_pattern(entry[len(REGEX_PREFIX):]) for entry in ignore
            if entry.startswith(REGEX_PREFIX)]


@lru_cache(maxsize=_CACHED)  # compiled once per pattern, not on every check
def _pattern(source: str) -> regex.Pattern[str]:
    try:
        return regex.compile(source, flags=regex.VERSION0)
    # A repeat count past the engine's limit, too deep a nesting: any failure to
    # compile is the pattern's, and a one-line error (it was an internal error).
    except (regex.error, re.error, OverflowError, RecursionError, ValueError) as exc:
        problem = str(exc) or type(exc).__name__
        raise ConfigError(f"ignore pattern {source!r} is not a regex: {problem}") from None


def attribute_mask(selector: str, attribute: str) -> str:
    """The mask entry that removes `attribute` from the elements `selector` matches."""
    return f"{selector} @{attribute}"


def compiles(entry: str) -> bool:
    """Whether a mask entry (a selector, or `<selector> @<attribute>`) can be used."""
    return _css_problem(entry) is None


def selector_problem(selector: str) -> str | None:
    """Why a source's content `selector` cannot be used (None when it can)."""
    if _ATTRIBUTE_MASK.match(selector):
        return f"CSS selector {selector!r} is not valid: ' @attribute' is for ignore entries"
    return _css_problem(selector)


def ignore_problem(entry: str) -> str | None:
    """Why an `ignore` entry (a selector, `<selector> @<attribute>` or `regex:<pattern>`)
    cannot be used (None when it can)."""
    if entry.startswith(REGEX_PREFIX):
        try:
            text_masks((entry,))
        except ConfigError as exc:
            return str(exc)
        return None
    return _css_problem(entry)


def _css_problem(entry: str) -> str | None:
    """Compiled as a check compiles it, and run once on a small page (an expression
    that yields a number or a string, or calls an unknown function, fails only when
    run), so what passes here does not fail a check."""
    elements, attributes = _split((entry,))
    try:
        _query(elements or (attributes[0][0],))(_SAMPLE_PAGE)
    except ConfigError as exc:
        return str(exc)
    except etree.XPathError as exc:
        what = "XPath" if entry.startswith(XPATH_PREFIX) else "CSS selector"
        return f"{what} {entry!r} is not valid: {exc}"
    return None


def remove_masked(root: Element, selectors: tuple[str, ...]) -> None:
    """Remove every element that a selector matches (in place); the text that
    follows a removed element stays. `<selector> @<attribute>` entries remove that
    attribute only. All are matched first, on the page as it came, then applied."""
    if not selectors:
        return
    elements, attributes = _split(selectors)
    stripped = [(e, name) for name, query in _attribute_queries(attributes)
                for e in _run(query, root)]
    dropped = _run(_query(elements), root) if elements else []
    for element, name in stripped:
        element.attrib.pop(name, None)
    for element in dropped:
        if element.getparent() is not None:
            element.drop_tree()
        else:  # the root itself: keep an empty <html>
            element.text = None
            for child in list(element):
                element.remove(child)


def select(root: Element, selector: str) -> list[Element]:
    """The elements `selector` matches, in document order."""
    return _run(_query((selector,)), root)


def select_any(root: Element, selectors: tuple[str, ...]) -> list[Element]:
    """The elements any of `selectors` matches (attribute masks: their elements)."""
    elements, attributes = _split(selectors)
    return _run(_query((*elements, *(s for s, _ in attributes))), root)


def mask_texts(texts: Sequence[str], patterns: Iterable[regex.Pattern[str]]) -> list[str]:
    """`texts` (a page's title and paragraphs) with every match of `patterns` cut.
    Each pattern has PATTERN_SECONDS for the whole page; past it the check of the
    page fails (kind parse), naming the pattern, rather than hang on it."""
    masked = list(texts)
    for pattern in patterns:
        spent = 0.0
        for i, text in enumerate(masked):
            started = time.monotonic()
            try:
                masked[i] = pattern.sub("", text, timeout=max(PATTERN_SECONDS - spent, 0.001))
            except TimeoutError:
                raise FetchFailed(
                    "parse", f"ignore pattern {pattern.pattern!r} took more than "
                    f"{PATTERN_SECONDS:g} s on this page; simplify it") from None
            spent += time.monotonic() - started
    return masked


@lru_cache(maxsize=_CACHED)  # a source's masks are split once, not on every check
def _split(selectors: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(element selectors, (selector, attribute) pairs)."""
    elements: list[str] = []
    attributes: list[tuple[str, str]] = []
    for entry in selectors:
        match = _ATTRIBUTE_MASK.match(entry)
        if match:
            attributes.append((match["selector"], match["attribute"]))
        else:
            elements.append(entry)
    return tuple(elements), tuple(attributes)


def _attribute_queries(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, etree.XPath]]:
    """One query per attribute name, for all the selectors that strip it."""
    by_name: dict[str, list[str]] = {}
    for selector, name in pairs:
        by_name.setdefault(name, []).append(selector)
    return [(name, _query(tuple(group))) for name, group in sorted(by_name.items())]


def _run(query: etree.XPath, root: Element) -> list[Element]:
    """The elements `query` finds. An `xpath:` entry may call a function lxml does not
    have in a condition that only a real page reaches: that check fails (kind parse),
    naming the expression, as a pattern that takes too long does."""
    try:
        return list(query(root))
    except etree.XPathEvalError as exc:
        raise FetchFailed("parse", f"XPath {query.path!r} failed on this page: {exc}") from None


def _query(selectors: tuple[str, ...]) -> etree.XPath:
    cache: dict[tuple[str, ...], etree.XPath] | None = getattr(_compiled, "queries", None)
    if cache is None:
        cache = _compiled.queries = {}
    query = cache.get(selectors)
    if query is None:
        if len(cache) >= _CACHED:
            cache.clear()
        query = cache[selectors] = etree.XPath(_xpath(selectors), regexp=False)
    return query


@lru_cache(maxsize=_CACHED)
def _xpath(selectors: tuple[str, ...]) -> str:
    parts = []
    for selector in selectors:
        if selector.startswith(XPATH_PREFIX):  # elements only: see the module's docstring
            parts.append(f"({selector[len(XPATH_PREFIX):]})[self::*]")
            continue
        try:
            parts.append(_translator.css_to_xpath(selector))
        except SelectorError as exc:
            raise ConfigError(f"CSS selector {selector!r} is not valid: {exc}") from None
    # A <template>'s content is not part of the page (nor matched by CSS in a browser).
    return f"({' | '.join(parts)})[not(ancestor::template)]"
