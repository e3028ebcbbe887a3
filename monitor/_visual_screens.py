"""A STAND-IN for monitor/screenshots.py (issue 15, contract §4), which helper S writes.

Helper V (the visual diff) needed `Screenshot` and `version_screenshot` before S's
branch existed, so this private copy has exactly the contract's names and shapes. When
the branches merge, S's module is kept, this file is deleted, and its two importers
(monitor/visual_diff.py, monitor/web/routes/diffs.py) import from monitor.screenshots.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from monitor.store.schema import events, versions
from monitor.store.snapshots import get_blob

_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Screenshot:
    sha256: str
    png: bytes
    width: int
    height: int
    layout: dict[str, Any] | None


def version_screenshot(engine: Engine, stream_id: str, version: int) -> Screenshot | None:
    """The screenshot the version's VersionCaptured evidence names, or None."""
    query = (select(events.c.data).select_from(versions.join(
        events, events.c.position == versions.c.event_position))
        .where(versions.c.stream_id == stream_id, versions.c.document_version == version))
    with engine.connect() as conn:
        data = conn.execute(query).scalar()
        shot = (data or {}).get("evidence", {}).get("screenshot") if isinstance(data, dict) \
            else None
        if not isinstance(shot, dict) or not _HEX.fullmatch(str(shot.get("sha256", ""))):
            return None
        png = get_blob(conn, shot["sha256"])
        layout = None
        if _HEX.fullmatch(str(shot.get("layout") or "")):
            try:
                found = json.loads(get_blob(conn, shot["layout"]))
            except (ValueError, RecursionError):
                found = None
            layout = found if isinstance(found, dict) else None
    width, height = shot.get("width"), shot.get("height")
    return Screenshot(shot["sha256"], png, width if isinstance(width, int) else 0,
                      height if isinstance(height, int) else 0, layout)
