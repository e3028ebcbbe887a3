"""Screenshots in a bundle (format v2): each version's PNG, and its layout JSON, as
members beside its text, and their check.

A version event's evidence names its screenshot's sha256 (and its layout's); that
event is in the signed hash chain, so a PNG whose sha256 is the one its event names
is the one the monitor recorded. bundle.json lists them per version for the reader:
{"screenshot": {"file", "sha256", "layout", "layout_sha256"}}.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection

from monitor.evidence.bundle import layout
from monitor.screenshots import screenshot_ref
from monitor.store.snapshots import get_blob


def png_name(version: int) -> str:
    return f"screenshots/{version}.png"


def layout_name(version: int) -> str:
    return f"screenshots/{version}.layout.json"


def export(conn: Connection, number: int, data: dict[str, Any],
           members: dict[str, bytes]) -> dict[str, Any] | None:
    """Put version `number`'s screenshot (and layout) into `members`; what bundle.json
    says of it, or None when the version has none."""
    ref = screenshot_ref(data)
    if ref is None:
        return None
    members[png_name(number)] = get_blob(conn, ref.sha256)
    listed: dict[str, Any] = {"file": png_name(number), "sha256": ref.sha256,
                              "layout": None, "layout_sha256": None}
    if ref.layout:
        members[layout_name(number)] = get_blob(conn, ref.layout)
        listed.update(layout=layout_name(number), layout_sha256=ref.layout)
    return listed


def check(members: dict[str, bytes], info: dict[str, Any],
          by_position: dict[int, dict[str, Any]], problems: list[str],
          notes: list[str]) -> int:
    """Each version's screenshot and layout against the sha256 its event names; the
    number of screenshots that hold."""
    carries = info.get("format") != layout.FORMAT_V1  # a v1 bundle has no screenshots
    named: set[str] = set()
    held = 0
    for entry in info.get("versions") or []:
        if not isinstance(entry, dict):
            continue
        number, at = entry.get("version"), entry.get("event_position")
        event = by_position.get(at) if isinstance(at, int) else None
        ref = screenshot_ref(event["data"]) if event is not None else None
        if ref is None or not isinstance(number, int):
            continue
        if not carries:
            notes.append(f"version {number}: its event names a screenshot, which a "
                         f"{layout.FORMAT_V1!r} bundle does not carry")
            continue
        wanted = [(png_name(number), ref.sha256, "screenshot")]
        if ref.layout:
            wanted.append((layout_name(number), ref.layout, "screenshot layout"))
        ok = True
        for name, digest, what in wanted:
            named.add(name)
            body = members.get(name)
            if body is None:
                problems.append(f"version {number}: its {what} {name} is missing")
                ok = False
            elif hashlib.sha256(body).hexdigest() != digest:
                problems.append(f"version {number}: {name} is not the {what} its event "
                                f"names (sha256 differs from {digest[:12]}): altered")
                ok = False
        held += ok
    for name in sorted(n for n in members if n.startswith("screenshots/") and n not in named):
        problems.append(f"{name}: a screenshot no version event names")
    return held
