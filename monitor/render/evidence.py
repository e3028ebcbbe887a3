"""What a check keeps of what the browser saw (ISSUE15 contract §2): the screenshot
and its layout, and a rendered page's main document, each a raw blob (stored once by
its sha256, compressed as every blob is), named in the version's evidence."""

from __future__ import annotations

from typing import Any

from monitor.render.layout import png_size
from monitor.sources.base import Capture
from monitor.store.snapshots import Blob


def seen_blobs(captured: Capture, evidence: dict[str, Any], picture: bool) -> list[Blob]:
    """The blobs to store with `captured`'s version; `evidence` (the version's, a copy
    of the capture's) gets "screenshot" and the main document's sha256 under "rendered".
    `picture`: whether this version keeps its screenshot (a rendered page takes one on
    every load, in the same load; a source keeps it for a changed version, and for its
    first too when it asks for screenshots)."""
    blobs: list[Blob] = []
    rendered = evidence.get("rendered")
    if isinstance(rendered, dict) and captured.main_document:
        body = Blob.raw(captured.main_document)
        blobs.append(body)
        main = dict(rendered.get("main_document") or {})
        evidence["rendered"] = {**rendered, "main_document": {**main, "sha256": body.sha256}}
    if captured.screenshot and picture:
        png = Blob.raw(captured.screenshot)
        width, height = png_size(captured.screenshot)
        layout = Blob.raw(captured.layout) if captured.layout else None
        blobs += [png] + ([layout] if layout else [])
        evidence["screenshot"] = {"sha256": png.sha256, "media_type": "image/png",
                                  "width": width, "height": height,
                                  "layout": layout.sha256 if layout else None}
    return list({blob.sha256: blob for blob in blobs}.values())
