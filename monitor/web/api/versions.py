"""/api/v1/sources/{name}/versions: the stored versions of a document, their texts, and
the diff between any two of them (made by monitor.diff, hunks in the change schema's
hunk shape, as `monitor diff --format json` prints them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, WithJsonSchema

from monitor.errors import UsageError
from monitor.report.gather import gather_version_diff
from monitor.report.jsondoc import diff_dict
from monitor.screenshots import versions_with_screenshots
from monitor.store.queries import list_versions, version_text
from monitor.web.api.common import MAX_NUMBER, NOT_FOUND, Limit, moment, source_row
from monitor.web.api.openapi import schema_ref
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Viewer
from monitor.web.context import web

routes = ApiRoutes("versions")

Number = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="1, 2, 3… in the history.")]


class Version(BaseModel):
    """One stored version: when it was read, where, and the hashes of its text and of
    the fetched bytes kept as evidence."""

    number: int
    captured_at: str
    origin: str = Field(description="captured (read by a check) or baseline (imported).")
    text_hash: str = Field(description="sha256 of the canonical text (…/text).")
    raw_hash: str | None = Field(description="sha256 of the fetched bytes; null when not kept.")
    screenshot_hash: str | None = Field(
        default=None, description="sha256 of the page's screenshot (a PNG, the web app's "
        "/sources/NAME/versions/N/screenshot.png); null when none was taken.")
    title: str | None = Field(description="The title at this version, as far as known.")
    published: str | None
    url: str | None = Field(description="Where it was read (after redirects); null for a "
                                        "baseline.")
    event_position: int = Field(description="The log position of the event that stored it.")


class VersionPage(BaseModel):
    items: list[Version]
    next: int | None = Field(description="Pass as `cursor` for the next page; null at the end.")


Hunks = Annotated[list[dict[str, Any]], WithJsonSchema(
    {"type": "array", "items": schema_ref("hunk")})]


class Diff(BaseModel):
    """The difference between two stored versions, word by word inside paragraphs."""

    title: str | None
    source: str
    url: str
    from_version: int
    to_version: int
    from_captured_at: str
    to_captured_at: str
    significance: str = Field(description="none, low, medium or high.")
    classes: list[str]
    summary: str
    hunks: Hunks


def _versions(request: Request, name: str) -> list[Version]:
    """Every version of the source, oldest first, each with the title and date known
    at it (a capture without one keeps the previous, as changes say it)."""
    row = source_row(request, name)
    found, title, published = [], None, None
    shots = versions_with_screenshots(web(request).engine, row.stream_id)
    for v in list_versions(web(request).engine, row.stream_id):
        title, published = v.title or title, v.published or published
        found.append(Version(
            number=v.document_version, captured_at=moment(v.captured_at) or "",
            origin=v.origin, text_hash=v.content_hash, raw_hash=v.raw_hash,
            screenshot_hash=shots.get(v.document_version), title=title,
            published=published, url=v.url, event_position=v.event_position))
    return found


@routes.get("/sources/{name}/versions", summary="The stored versions of a source",
            response_model=VersionPage, responses=NOT_FOUND)
def list_source_versions(request: Request, _: Viewer, name: str,
                         cursor: Annotated[int, Query(ge=0, le=MAX_NUMBER, description=(
                             "`next` of the previous page."))] = 0,
                         limit: Limit = 100) -> VersionPage:
    later = [v for v in _versions(request, name) if v.number > cursor]
    page = later[:limit]
    return VersionPage(items=page, next=page[-1].number if len(later) > limit else None)


@routes.get("/sources/{name}/versions/{number}", summary="One version: metadata and hashes",
            response_model=Version, responses=NOT_FOUND)
def get_version(request: Request, _: Viewer, name: str, number: Number) -> Version:
    found = next((v for v in _versions(request, name) if v.number == number), None)
    if found is None:
        raise HTTPException(404, f"source {name!r} has no version {number}")
    return found


@routes.get("/sources/{name}/versions/{number}/text", summary="One version's canonical text",
            response_class=PlainTextResponse,
            responses={**NOT_FOUND, 200: {"content": {"text/plain": {
                "schema": {"type": "string"}}}, "description":
                "The title, the date and the paragraphs, as `monitor show NAME@N` prints "
                "them (page text: untrusted)."}})
def get_version_text(request: Request, _: Viewer, name: str,
                     number: Number) -> PlainTextResponse:
    row = source_row(request, name)
    try:
        text = version_text(web(request).engine, row.stream_id, number)[1]
    except UsageError:
        raise HTTPException(404, f"source {name!r} has no version {number}") from None
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@routes.get("/sources/{name}/diff", summary="The diff between any two versions",
            response_model=Diff, responses=NOT_FOUND)
def get_diff(request: Request, _: Viewer, name: str,
             from_version: Annotated[int | None, Query(
                 alias="from", ge=1, le=MAX_NUMBER,
                 description="The older version (default: the one before `to`).")] = None,
             to_version: Annotated[int | None, Query(
                 alias="to", ge=1, le=MAX_NUMBER,
                 description="The newer version (default: the latest).")] = None) -> Diff:
    row = source_row(request, name)
    try:
        compared = gather_version_diff(web(request).engine, row.name, from_version, to_version)
    except UsageError as exc:  # a version it does not have
        raise HTTPException(404, str(exc)) from None
    return Diff(**diff_dict(compared))
