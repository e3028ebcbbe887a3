"""Learning which parts of a page change on every load (counters, clocks, rotations).

Two loads of the same page are compared element by element, each element named by a
stable CSS path (tag, id, classes, position among its same-tag siblings). An element
whose text differs is volatile — but only a small one: short text and no block
children, because a paragraph that differs may have been edited between the loads,
and masking it would hide exactly the change the monitor exists to report.

Alike siblings (same tag and classes under one parent: tag chips, a "related news"
list) are judged as a group: when they were shuffled, or most of them changed, the
whole group is volatile — otherwise a chip that happened to land in the same place
on both loads would be missed, and flicker on the next one.

What is not text changes too: a CSRF token in a meta tag or an inline script, an
asset's cache-busting `?v=…`. It never reaches the extracted document, but it makes
two loads of an unchanged page differ byte for byte, so the check cannot tell at a
glance that nothing moved (see `monitor.sources.pagekey`). Such an attribute is
learned as `<selector> @<attribute>` (the attribute is dropped, the element and its
text stay), and a script, style or other element that is never text, whose content
differs, is masked whole. `class` and `id` are left alone: they name the elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from monitor.normalize import normalize_text
from monitor.sources import masking
from monitor.sources.blocks import (
    BLOCK_TAGS,
    NOT_TEXT_TAGS,
    Element,
    is_element,
    own_strings,
    parse_html,
    text_of,
)
from monitor.sources.reltime import has_relative_time

MAX_VOLATILE_CHARS = 80
_STABLE_ID = re.compile(r"^[A-Za-z][A-Za-z_-]*$")  # ids with digits are often generated
_PLAIN_IDENT = re.compile(r"^-?[A-Za-z_][\w-]*$")
_NTH = re.compile(r":nth-of-type\(\d+\)$")
_NTH_NUMBER = re.compile(r":nth-of-type\((\d+)\)$")
_DIGITS = re.compile(r"\d+")
_LINKED_DATA = "application/ld+json"
_UNNUMBERED = frozenset({"html", "head", "body"})


@dataclass(frozen=True)
class _Element:
    text: str
    own_text: str  # the strings directly inside it, not in its children
    small: bool  # short, and no block element inside: may be masked
    blockless: bool  # no block element inside, however long
    children: tuple[str, ...]  # paths of child elements that have text


def volatile_selectors(*loads: str, max_chars: int = MAX_VOLATILE_CHARS) -> tuple[str, ...]:
    """Masks for what differs between loads of one page, taken in order: each pair of
    consecutive loads is compared, and what any pair found is masked — except a
    rotated list (`_rotated_items`), which must be found by every pair: a list that
    rotates does so again at once, while one new item published between two loads
    shifts the list only once."""
    if len(loads) < 2:
        raise ValueError("learning needs at least two loads of the page")
    roots = [parse_html(html) for html in loads]
    found = [_pair_masks(a, b, max_chars) for a, b in pairwise(roots)]
    confirmed = set.intersection(*(rotated for _, rotated in found))
    learned = [tuple(m for m in masks if m not in rotated or m in confirmed)
               for masks, rotated in found]
    relative = tuple(dict.fromkeys(m for root in roots for m in _relative_time_masks(root,
                                                                                  max_chars)))
    return tuple(m for m in merged(*learned, relative) if masking.compiles(m))


def one_load_masks(root: Element, max_chars: int = MAX_VOLATILE_CHARS) -> tuple[str, ...]:
    """What a single load of a page already shows to be volatile (the elements that
    hold a relative time); everything else needs loads to compare."""
    return tuple(m for m in _relative_time_masks(root, max_chars) if masking.compiles(m))


def _relative_time_masks(root: Element, max_chars: int) -> list[str]:
    """The smallest elements that hold a relative time ("2 часа назад"): it reads
    the same on loads seconds apart, so no pair of loads shows it changing, yet it
    changes on the checks that follow (see monitor.sources.reltime). Only small
    elements, as for what differs: a paragraph saying "two days ago" is content."""
    elements = _elements(root, max_chars)
    found: list[str] = []
    for path, element in elements.items():
        if element.small and has_relative_time(element.text) and not any(
            has_relative_time(elements[c].text) for c in element.children if c in elements
        ):
            found.append(path)
    return sorted(found)


def _pair_masks(first_root: Element, second_root: Element,
                max_chars: int) -> tuple[list[str], set[str]]:
    """(the masks for what differs between two loads, the rotated lists among them)."""
    first = _elements(first_root, max_chars)
    second = _elements(second_root, max_chars)
    changed = {
        path
        for path in first.keys() & second.keys()
        if first[path].small and second[path].small and first[path].text != second[path].text
    }
    wholly = _wholly_changed(changed, first, second)
    masks: dict[str, set[str]] = {}  # selector -> the element paths it stands for
    rotated: set[str] = set()
    for group, members in _groups(first.keys() | second.keys()).items():
        if _rotated_items(members, first, second):
            rotated.add(group)
            masks[group] = members
        elif _group_is_volatile(members, changed, wholly, first, second):
            masks[group] = members
    for path in changed:
        # Text directly inside an element changed, though not all of its children
        # did: mask it whole, as nothing smaller holds the change.
        if path in wholly or first[path].own_text != second[path].own_text:
            masks.setdefault(path, {path})
    kept = _outermost(masks)
    not_text = _not_text_masks(first_root, second_root, kept)
    return sorted(kept) + sorted(not_text), rotated & set(kept)


_NAMES = frozenset({"class", "id"})  # they name elements in the selectors; never masked


def _not_text_masks(first_root: Element, second_root: Element, kept: list[str]) -> list[str]:
    """Masks for what differs outside the text: attributes, and the content of
    elements that are never text (scripts, styles), inside no element masked already."""
    first, second = _all_elements(first_root), _all_elements(second_root)
    found: list[str] = []
    for path in sorted(first.keys() & second.keys()):
        if any(_masked_by(k, path) for k in kept):
            continue
        a, b = first[path], second[path]
        if a.tag in NOT_TEXT_TAGS and a.tag not in _UNNUMBERED and (
            (a.text or "") != (b.text or "")
        ):
            # Linked data holds the publication date the date reader may take: never
            # masked (a page whose JSON-LD changes on every load just gets no key hits).
            if a.get("type") != _LINKED_DATA:
                found.append(path)
            continue
        for name in sorted((set(a.attrib.keys()) | set(b.attrib.keys())) - _NAMES):
            # A name a mask cannot write (Alpine's `@click`) is left alone.
            if a.get(name) != b.get(name) and masking.ATTRIBUTE_NAME.fullmatch(str(name)):
                found.append(masking.attribute_mask(path, str(name)))
    # An element masked whole covers the attribute masks of what it holds.
    whole = [f for f in found if " @" not in f]
    return [f for f in found
            if not any(_is_ancestor(w, f.rsplit(" @", 1)[0]) for w in whole)]


def merged(*learned: tuple[str, ...]) -> tuple[str, ...]:
    """Masks learned from several pairs of loads, without those another one covers."""
    masks = tuple(dict.fromkeys(m for group in learned for m in group))
    whole = [m for m in masks if " @" not in m]
    return tuple(m for m in masks
                 if not any(w != m and _masked_by(w, m.rsplit(" @", 1)[0]) for w in whole))


def _masked_by(mask: str, path: str) -> bool:
    """Whether the element at `path` is inside (or is) what `mask` removes. A group's
    mask is its members' path without the last `:nth-of-type`, so each step of `path`
    at the mask's depth is compared the same way."""
    steps = path.split(" > ")
    depth = mask.count(" > ") + 1
    if len(steps) < depth:
        return False
    head = " > ".join(steps[:depth])
    return head == mask or _NTH.sub("", head) == mask


def _all_elements(root: Element) -> dict[str, Element]:
    """Every element by its path, those that are never text included."""
    found: dict[str, Element] = {}
    stack: list[tuple[Element, str]] = [(root, _step(root, 1))]
    while stack:
        element, path = stack.pop()
        found[path] = element
        seen: dict[str, int] = {}
        for child in element:
            if is_element(child):
                seen[child.tag] = seen.get(child.tag, 0) + 1
                stack.append((child, f"{path} > {_step(child, seen[child.tag])}"))
    return found


def _wholly_changed(
    changed: set[str], first: dict[str, _Element], second: dict[str, _Element]
) -> set[str]:
    """Changed elements all of whose children with text changed too (recursively): masking
    one hides nothing stable, unlike a "date · Views: 12" line, whose date did not change."""
    wholly: set[str] = set()
    for path in sorted(changed, key=lambda p: -p.count(" > ")):  # children first
        if all(c in wholly for c in (*first[path].children, *second[path].children)):
            wholly.add(path)
    return wholly


def _groups(paths: set[str]) -> dict[str, set[str]]:
    """Paths grouped by their selector without the last `:nth-of-type`."""
    groups: dict[str, set[str]] = {}
    for path in paths:
        key = _NTH.sub("", path)
        if key != path:
            groups.setdefault(key, set()).add(path)
    return groups


def _group_is_volatile(
    members: set[str],
    changed: set[str],
    wholly: set[str],
    first: dict[str, _Element],
    second: dict[str, _Element],
) -> bool:
    moved = members & changed
    if not moved or not moved <= wholly:
        return False
    if not all(m in first and m in second and first[m].small and second[m].small for m in members):
        return False
    shuffled = sorted(first[m].text for m in members) == sorted(second[m].text for m in members)
    return shuffled or 2 * len(moved) >= len(members)


MIN_ROTATED_ITEMS = 3


def _rotated_items(members: set[str], first: dict[str, _Element],
                   second: dict[str, _Element]) -> bool:
    """A list of items too long to count as small (headlines in a "related news"
    block) that was rotated between the loads: at least three alike siblings with
    no block inside, every one of them with another text, or the same texts shuffled.
    No editor rewrites every item of a list in the seconds between two loads."""
    if len(members) < MIN_ROTATED_ITEMS:
        return False
    if not all(m in first and m in second and first[m].blockless and second[m].blockless
               for m in members):
        return False
    before = [first[m].text for m in sorted(members, key=_position)]
    after = [second[m].text for m in sorted(members, key=_position)]
    if sorted(before) == sorted(after):
        return before != after
    if before[1:] == after[:-1] or before[:-1] == after[1:]:
        return False  # one item came in at one end, one left at the other: news, not noise
    if [_DIGITS.sub("", t) for t in before] == [_DIGITS.sub("", t) for t in after]:
        return False  # the same items with counters in them: the counters are the noise
    return all(a != b for a, b in zip(before, after, strict=True))


def _position(path: str) -> int:
    found = _NTH_NUMBER.search(path)
    return int(found.group(1)) if found else 0


def _outermost(masks: dict[str, set[str]]) -> list[str]:
    """Drop masks that others already cover; groups before single elements."""
    order = sorted(masks, key=lambda s: (s in masks[s], s.count(" > "), s))
    kept: list[str] = []
    for selector in order:
        covered = all(any(_covers(masks[k], path) for k in kept) for path in masks[selector])
        if not covered:
            kept.append(selector)
    return kept


def _covers(members: set[str], path: str) -> bool:
    return any(path == m or _is_ancestor(m, path) for m in members)


def _elements(root: Element, max_chars: int) -> dict[str, _Element]:
    elements: dict[str, _Element] = {}
    stack: list[tuple[Element, str]] = [(root, _step(root, 1))]
    while stack:
        element, path = stack.pop()
        if element.tag in NOT_TEXT_TAGS:
            continue
        text = normalize_text(text_of(element, " "))
        seen: dict[str, int] = {}
        children: list[str] = []
        for child in element:
            if is_element(child):
                seen[child.tag] = seen.get(child.tag, 0) + 1
                child_path = f"{path} > {_step(child, seen[child.tag])}"
                stack.append((child, child_path))
                if child.tag not in NOT_TEXT_TAGS and text_of(child).strip():
                    children.append(child_path)
        blockless = next(element.iterdescendants(*BLOCK_TAGS), None) is None
        small = len(text) < max_chars and blockless
        elements[path] = _Element(text, _own_text(element), small, blockless, tuple(children))
    return elements


def _own_text(element: Element) -> str:
    return normalize_text(" ".join(own_strings(element)))


def _is_ancestor(ancestor: str, path: str) -> bool:
    return path.startswith(ancestor + " > ")


def _step(element: Element, position: int) -> str:
    """tag#id.class:nth-of-type(k) — how one element is named among its siblings."""
    step = str(element.tag)
    element_id = element.get("id")
    if isinstance(element_id, str) and _STABLE_ID.match(element_id):
        step += "#" + _ident(element_id)
    classes = element.get("class")
    if isinstance(classes, str):
        step += "".join("." + _ident(c) for c in classes.split() if c)
    if element.tag not in _UNNUMBERED:
        step += f":nth-of-type({position})"
    return step


def _ident(name: str) -> str:
    """A CSS identifier for `name`, escaping what CSS would not read literally."""
    if _PLAIN_IDENT.match(name) and not name.startswith("--"):
        return name
    out = []
    for index, ch in enumerate(name):
        if ch.isalnum() and ch.isascii() and not (index == 0 and ch.isdigit()):
            out.append(ch)
        elif ch in "-_" and not (index == 0 and ch == "-"):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return "".join(out)
