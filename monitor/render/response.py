"""A rendered page as the adapters read it: a `Response` whose body is the rendered
HTML, carrying what the browser saw besides (kept apart from the browser code, so an
adapter can tell one without importing Playwright)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.fetch import Response


@dataclass(frozen=True)
class Rendered(Response):
    screenshot: bytes | None = None  # full-page PNG
    layout: bytes | None = None  # JSON (ISSUE15 contract §3)
    main_document: bytes = b""  # the main document's HTTP body, as received
    # evidence["rendered"] but its main document's sha256, which the check adds with
    # the blob: browser, main_document (status, content_type), blocked
    rendered: Mapping[str, Any] = field(default_factory=dict)
