"""Which sources a browser reads: `render = true` and `screenshot = true`, checked
the same way by the config, `monitor add` and the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RENDERED_KINDS = frozenset({"html"})  # the other kinds read an API or a file


def render_problem(kind: str, render: bool, screenshot: bool) -> tuple[str, str] | None:
    """(key, problem) when the source's render settings cannot be used, else None.
    A screenshot is what the browser showed, so `screenshot = true` reads the page in
    the browser too (`renders`): the picture and the text come from the same load."""
    if (render or screenshot) and kind not in RENDERED_KINDS:
        key = "render" if render else "screenshot"
        return key, (f"a {kind} source is not read in a browser (only "
                     f"{', '.join(sorted(RENDERED_KINDS))} pages are)")
    return None


def renders(options: Mapping[str, Any] | None) -> bool:
    """Whether a source with these stored options is read in a browser: `render`, or
    `screenshot` (its picture is taken by the browser that reads it)."""
    found = options or {}
    return bool(found.get("render") or found.get("screenshot"))


def keeps_screenshot(options: Mapping[str, Any] | None, changed: bool) -> bool:
    """Whether a rendered source's new version keeps its screenshot: a changed one
    always, a first one when the source says `screenshot = true`."""
    return changed or bool((options or {}).get("screenshot"))
