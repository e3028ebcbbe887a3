"""A hunk's word diff as shown to people: runs of equal, deleted and inserted text.

The runs come from `monitor.diff.render_word_diff`; here they are adjusted for
reading, never for meaning: control characters are replaced, whitespace at the
edge of a lone insertion or deletion is moved outside it (markdown emphasis
cannot start or end with a space), and whitespace that is itself the change is
shown with visible symbols, or a removed space would be invisible.
"""

from __future__ import annotations

import re

from monitor import classify
from monitor.diff import Hunk, render_word_diff
from monitor.report.escape import printable

_EDGE_SPACE = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
_SPACE_SYMBOLS = {" ": "␣", "\u00a0": "⍽", "\n": "↵", "\t": "⇥"}


def display_runs(hunk: Hunk) -> list[tuple[str, str]]:
    """The hunk's (tag, text) runs as shown to people: tag is equal, delete or
    insert; control characters replaced; whitespace at the edge of a lone
    insertion or deletion moved outside it; whitespace that is itself the
    change shown with visible symbols (␣ space, ⍽ no-break space, ↵ newline)."""
    runs = [(tag, printable(text)) for tag, text in render_word_diff(hunk)]
    shown: list[tuple[str, str]] = []
    i = 0
    while i < len(runs):
        tag, text = runs[i]
        if tag == classify.DELETE and i + 1 < len(runs) and runs[i + 1][0] == classify.INSERT:
            shown += _replaced(text, runs[i + 1][1])
            i += 2
            continue
        shown += [(tag, text)] if tag == classify.EQUAL else _lone(tag, text)
        i += 1
    return _merged(shown)


def _lone(tag: str, text: str) -> list[tuple[str, str]]:
    match = _EDGE_SPACE.match(text)
    assert match is not None  # the pattern matches any string
    lead, core, trail = match.groups()
    if not core:
        return [(tag, _visible(text))]
    return [(classify.EQUAL, lead), (tag, core), (classify.EQUAL, trail)]


def _replaced(old: str, new: str) -> list[tuple[str, str]]:
    """A deletion and the insertion that replaces it: only the whitespace both
    share at an edge is moved out, so a changed space is never hidden."""
    lead = _common_space(old, new)
    old, new = old[len(lead):], new[len(lead):]
    trail = _common_space(old[::-1], new[::-1])[::-1]
    old, new = old[:len(old) - len(trail)], new[:len(new) - len(trail)]
    return [(classify.EQUAL, lead), (classify.DELETE, _visible_edges(old)),
            (classify.INSERT, _visible_edges(new)), (classify.EQUAL, trail)]


def _common_space(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n] and a[n].isspace():
        n += 1
    return a[:n]


def _visible_edges(text: str) -> str:
    match = _EDGE_SPACE.match(text)
    assert match is not None
    lead, core, trail = match.groups()
    return _visible(lead) + core + _visible(trail)


def _visible(space: str) -> str:
    return "".join(_SPACE_SYMBOLS.get(c, f"⟨U+{ord(c):04X}⟩") if c.isspace() else c
                   for c in space)


def _merged(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for tag, text in runs:
        if not text:
            continue
        if merged and merged[-1][0] == tag == classify.EQUAL:
            merged[-1] = (tag, merged[-1][1] + text)
        else:
            merged.append((tag, text))
    return merged
