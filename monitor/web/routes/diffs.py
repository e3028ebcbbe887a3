"""The diff between any two stored versions of a document, inline or side by side.

`/sources/{name}/diff?from=N&to=M` is the link every alert already sends (see
monitor.changes.data); without `from` and `to` it shows the latest change. The diff
is the project's own (monitor.diff: paragraphs aligned, words compared, numbers whole).

When both versions have a screenshot, the page shows beside the text diff the image
`/sources/{name}/visual-diff?from=N&to=M` serves: the new screenshot with the changed
paragraphs boxed (monitor.visual_diff), made on request and kept in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from monitor import classify
from monitor.alerts import wording
from monitor.diff import Change, diff_documents
from monitor.document import Document
from monitor.errors import MonitorError
from monitor.report.escape import link_url
from monitor.screenshots import version_screenshot
from monitor.store.rows import SourceRow
from monitor.store.schema import versions
from monitor.store.snapshots import get_text
from monitor.untrusted import one_line
from monitor.visual_diff import VisualDiffError, fits, visual_diff
from monitor.web.auth import Viewer
from monitor.web.context import web
from monitor.web.diffview import layout
from monitor.web.language import reader_of
from monitor.web.lookups import missing_version, source_named, version_number
from monitor.web.templating import gettext, render
from monitor.web.timeline import short_moment

VIEWS = ("inline", "side")
MAX_CACHED = 64 * 1024 * 1024  # bytes of visual diffs kept in memory, per process
# The visual diff is an image of the app's own making, never a page: nothing in it runs.
IMAGE_POLICY = "default-src 'none'; sandbox; frame-ancestors 'self'; base-uri 'none'"


def routes(app: FastAPI) -> None:
    images = _Images()

    @app.get("/sources/{name}/diff", name="diff", include_in_schema=False)
    def diff(request: Request, user: Viewer, name: str,
                   start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                   to: Annotated[str | None, Query(max_length=40)] = None,
                   view: Annotated[str, Query(max_length=20)] = "inline") -> Response:
        source = source_named(request, name)
        if view not in VIEWS:
            raise HTTPException(400, gettext("view: %(value)s is neither inline nor side.",
                                             value=view))
        stored, old, new = _pair(request, source, start, to)
        reader = reader_of(request)
        page: dict[str, Any] = {"source": source, "versions": stored, "old": old, "new": new,
                                "short": lambda moment: short_moment(moment, reader),
                                "view": view, "heading": one_line(source.title or source.name,
                                                                  300),
                                "link": link_url(stored[new].url or source.url)}
        if old == 0:  # a first version and nothing before it: the pickers, and a word
            return render(request, "diff.html", blocks=None, summary="", significance="",
                          visual=None, **page)
        before, after = _documents(request, stored, old, new)
        change = diff_documents(before, after)
        summary = change.summary() if reader.language == "en" else \
            wording.change_summary(change.hunks, reader)
        return render(request, "diff.html", blocks=layout(before, after, change, reader),
                      summary=summary if change.hunks else "",
                      significance=change.significance,
                      visual=_visual(request, source, old, new, bool(changed_texts(change)[1]))
                      if change.hunks else None,
                      **page)

    @app.get("/sources/{name}/visual-diff", name="visual_diff", include_in_schema=False)
    def visual(request: Request, user: Viewer, name: str,
               start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
               to: Annotated[str | None, Query(max_length=40)] = None) -> Response:
        """The new version's screenshot with what changed since the old one boxed."""
        source = source_named(request, name)
        stored, old, new = _pair(request, source, start, to)
        engine = web(request).engine
        shots = [version_screenshot(engine, source.stream_id, n) if n else None
                 for n in (old, new)]
        before_shot, after_shot = shots
        if after_shot is None:
            raise HTTPException(404, gettext("Version %(number)s has no screenshot.",
                                             number=new))
        key = (before_shot.sha256 if before_shot else "", after_shot.sha256,
               stored[old].content_hash if old else "", stored[new].content_hash)
        image = images.get(key)
        if image is None:
            changed: list[str] = []
            removed: list[str] = []
            if old:
                before, after = _documents(request, stored, old, new)
                changed, removed = changed_texts(diff_documents(before, after))
            try:
                with images.computing:
                    image = visual_diff(before_shot, after_shot, changed, removed)
            except VisualDiffError as exc:
                raise HTTPException(422, gettext("The screenshots cannot be compared: "
                                                 "%(why)s.", why=str(exc))) from None
            images.put(key, image)
        return Response(image, headers={"content-type": "image/png",
                                        "content-security-policy": IMAGE_POLICY,
                                        "x-content-type-options": "nosniff"})


def changed_texts(change: Change) -> tuple[list[str], list[str]]:
    """The new version's changed, added and moved paragraphs and its title, and the old
    version's removed paragraphs: what the visual diff looks for. Not the published
    date: it is kept as 2025-12-11, which the page seldom shows as such."""
    changed = [h.new for h in change.hunks if h.new and h.kind not in
               (classify.PARAGRAPH_REMOVED, classify.DATE)]
    removed = [h.old for h in change.hunks if h.kind == classify.PARAGRAPH_REMOVED and h.old]
    return changed, removed


def _pair(request: Request, source: SourceRow, start: str | None,
          to: str | None) -> tuple[dict[int, Any], int, int]:
    """The stored versions, and the two the query names (`from` 0: a first version)."""
    stored = _versions(request, source.stream_id)
    if not stored:
        raise HTTPException(404, missing_version(source, 1))
    new = version_number(to, "to") if to else max(stored)
    old = version_number(start, "from") if start else new - 1
    asked = (new, old) if start else (new,)  # by default `from` is 0 for a first version
    for number in asked:
        if number not in stored:
            raise HTTPException(404, missing_version(source, number))
    if old > new:
        raise HTTPException(400, gettext("from (%(old)s) comes after to (%(new)s): give the "
                                         "older version first.", old=old, new=new))
    return stored, old, new


def _documents(request: Request, stored: dict[int, Any], old: int,
               new: int) -> tuple[Document, Document]:
    with web(request).engine.connect() as conn:
        before, after = (Document.from_canonical(get_text(conn, stored[n].content_hash))
                         for n in (old, new))
    return before, after


def _visual(request: Request, source: SourceRow, old: int, new: int,
            removed: bool) -> dict[str, Any] | None:
    """What the page shows of the visual diff: nothing unless both versions have a
    screenshot; the image's address, or why it cannot be made. A screenshot the store
    cannot give (its blob missing: `monitor verify` names it) leaves the text diff as it
    is; the image's own address says what is wrong."""
    engine = web(request).engine
    try:
        before, after = (version_screenshot(engine, source.stream_id, n) for n in (old, new))
    except MonitorError:
        return None
    if before is None or after is None:
        return None
    url = (f"/sources/{quote(source.name, safe='')}/visual-diff?"
           f"{urlencode({'from': old, 'to': new})}")
    return {"url": url, "fits": fits(before) and fits(after), "old": old, "new": new,
            "removed": removed}


class _Images:
    """Visual diffs made on request, kept in memory (at most MAX_CACHED bytes, the least
    recently used dropped first) by their screenshots' and texts' hashes: what they are
    made from never changes once stored. `computing` lets one request make one at a time,
    so a burst of them cannot decode many large screenshots at once."""

    def __init__(self) -> None:
        self.kept: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.computing = threading.BoundedSemaphore(1)

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self.lock:
            found = self.kept.get(key)
            if found is not None:
                self.kept.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], image: bytes) -> None:
        with self.lock:
            if key in self.kept or len(image) > MAX_CACHED:
                return
            self.kept[key] = image
            self.size += len(image)
            while self.size > MAX_CACHED:
                self.size -= len(self.kept.popitem(last=False)[1])


def _versions(request: Request, stream_id: str) -> dict[int, Any]:
    query = (select(versions.c.document_version, versions.c.captured_at, versions.c.title,
                    versions.c.content_hash, versions.c.url)
             .where(versions.c.stream_id == stream_id).order_by(versions.c.document_version))
    with web(request).engine.connect() as conn:
        return {row.document_version: row for row in conn.execute(query)}
