"""A version's screenshot, read back: the full-page PNG a browser showed when the
version was captured, and the layout of its text blocks on it.

The check stores both as raw blobs and names them in the version's VersionCaptured
evidence (`{"screenshot": {"sha256", "media_type", "width", "height", "layout"}}`).
Everything that shows or hands on a screenshot (`monitor show --screenshot`, the web
app, e-mail alerts, evidence bundles) reads it here, so each reads the same bytes,
verified against the sha256 the log names (monitor.store.snapshots.get_blob).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.store.schema import events, versions
from monitor.store.snapshots import get_blob

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MEDIA_TYPE = "image/png"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Where a version event names its screenshot: the JSON path inside its data.
SCREENSHOT_PATH = ("evidence", "screenshot", "sha256")
LAYOUT_PATH = ("evidence", "screenshot", "layout")


@dataclass(frozen=True)
class Screenshot:
    sha256: str
    png: bytes
    width: int
    height: int
    layout: dict[str, Any] | None  # {"width", "height", "blocks": [{"text", "box"}]}


@dataclass(frozen=True)
class ScreenshotRef:
    """What a version event says of its screenshot, before any blob is read."""

    sha256: str
    width: int
    height: int
    layout: str | None  # the layout JSON's sha256


def is_png(content: bytes) -> bool:
    """The bytes start as a PNG does: served or attached as image/png only then, since
    a screenshot is page-derived data and the store could hold anything under its hash."""
    return content.startswith(PNG_SIGNATURE)


def screenshot_ref(data: Any) -> ScreenshotRef | None:
    """The screenshot a version event's data names, or None (none taken, or a shape
    this code does not know: nothing is guessed from it)."""
    evidence = data.get("evidence") if isinstance(data, dict) else None
    shot = evidence.get("screenshot") if isinstance(evidence, dict) else None
    if not isinstance(shot, dict) or not _is_hash(shot.get("sha256")):
        return None
    layout = shot.get("layout")
    return ScreenshotRef(shot["sha256"], _size(shot.get("width")), _size(shot.get("height")),
                         layout if _is_hash(layout) else None)


def version_ref(conn: Connection, stream_id: str, version: int) -> ScreenshotRef | None:
    """The screenshot document version `version` of the stream names, if any."""
    data = conn.execute(
        select(events.c.data).join(versions, versions.c.event_position == events.c.position)
        .where(versions.c.stream_id == stream_id, versions.c.document_version == version)
    ).scalar()
    return screenshot_ref(data)


def version_screenshot(engine: Engine, stream_id: str, version: int) -> Screenshot | None:
    """Document version `version`'s screenshot, its bytes verified against their sha256
    (PersistenceError when a blob the log names is missing or altered); None when the
    version has none. A layout that is not a JSON object reads as None."""
    with engine.connect() as conn:
        ref = version_ref(conn, stream_id, version)
        if ref is None:
            return None
        png = get_blob(conn, ref.sha256)
        layout = _layout(get_blob(conn, ref.layout)) if ref.layout else None
    return Screenshot(ref.sha256, png, ref.width, ref.height, layout)


def versions_with_screenshots(engine: Engine, stream_id: str) -> dict[int, str]:
    """Document version -> the sha256 of its screenshot, for the versions that have one."""
    named = events.c.data[SCREENSHOT_PATH].as_string()
    with engine.connect() as conn:
        rows = conn.execute(
            select(versions.c.document_version, named)
            .join(events, events.c.position == versions.c.event_position)
            .where(versions.c.stream_id == stream_id, named.is_not(None))
            .order_by(versions.c.document_version)
        )
        return {number: sha for number, sha in rows if _is_hash(sha)}


def numbers(found: dict[int, str]) -> str:
    """'2, 5 and 7' for the versions a screenshot was kept of."""
    shown = [str(n) for n in sorted(found)]
    if len(shown) > 10:
        shown = [*shown[:9], f"{len(shown) - 9} more"]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _layout(content: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(content)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def _size(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
