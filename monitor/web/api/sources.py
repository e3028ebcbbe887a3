"""/api/v1/sources: the watched sources. Viewers list and read them; editors add one
(no fetch: the first check reads the page), change its interval, pause, resume and
remove it. Every change is an event appended through the code `monitor add`, `pause`,
`resume` and `remove` use; a removed source keeps its history."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlalchemy import select

from monitor import adding, catalog
from monitor.adding import Wanted
from monitor.source_data import source_data
from monitor.store.rows import SourceRow
from monitor.store.schema import sources
from monitor.validation import parse_interval
from monitor.web.api.common import NOT_FOUND, Limit, moment, problem, source_row
from monitor.web.api.routing import ApiRoutes
from monitor.web.auth import Editor, Viewer
from monitor.web.context import web

routes = ApiRoutes("sources")

State = Literal["active", "paused", "failing", "gone", "removed"]
Interval = StrictStr | StrictInt


class SourceLinks(BaseModel):
    page: str = Field(description="The document's page in the web app.")
    versions: str
    changes: str


class Source(BaseModel):
    """A watched source, as `monitor sources --format json` shows it."""

    name: str
    url: str = Field(description="The page watched (untrusted: it came from a user).")
    kind: str
    state: str = Field(description="active, paused, failing, gone (the page is gone) or "
                                   "removed (no longer watched; history kept).")
    interval_seconds: int
    language: str | None
    selector: str | None
    ignore: list[Any]
    volatile: list[Any]
    follow: bool
    translation_of: str | None
    versions: int = Field(description="How many versions are stored.")
    content_hash: str | None = Field(description="sha256 of the latest version's text.")
    title: str | None = Field(description="The latest title (page text: untrusted).")
    published: str | None
    failures: int
    last_failure: str | None
    last_change_at: str | None
    registered_at: str
    settings_problem: str | None = Field(
        description="A stored setting no check can use; null when there is none.")
    tags: list[str] = Field(description="The tags it is filed under (monitor.tags).")
    render: bool = Field(False, description="Read in a browser (render = true).")
    screenshot: bool = Field(False, description="Keeps a screenshot of its first version "
                             "too (screenshot = true).")
    links: SourceLinks


class SourcePage(BaseModel):
    items: list[Source]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class SourceToAdd(BaseModel):
    """A page to watch. Only `url` is needed; the rest is chosen as `monitor add` does."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=4096, examples=["https://www.gov.kz/memleket/entities/mfa"
                                                "/press/news/details/1?lang=ru"])
    name: str | None = Field(None, max_length=200, description="Default: made of the "
                             "URL's words, unique to it.")
    kind: str | None = Field(None, max_length=32, description="govkz, govkz-list, html, pdf "
                             "or docx; default: guessed from the URL.")
    interval: Interval | None = Field(None, description="How often to check: 15m, 1h, 1d or "
                                      "seconds (1s to 366d); default from the config.")
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}$",
                                 description="ru, kk, en: the language code of the page.")
    tags: list[str] | None = Field(None, max_length=20, description="Tags to file it under "
                                   "(lowercase letters or digits, words joined by '-'); "
                                   "given for a watched URL, its tags become these.")
    render: bool = Field(False, description="html pages: read it in a browser (a page "
                         "whose text a script puts in).")
    screenshot: bool = Field(False, description="With render: keep a screenshot of the "
                             "first version too.")


class Registered(BaseModel):
    source: Source
    created: bool = Field(description="false: the URL was watched already, by this source.")
    notes: list[str]


class SourceChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval: Interval | None = Field(None, description="15m, 1h, 1d or seconds.")
    state: Literal["active", "paused"] | None = Field(
        None, description="paused stops checking; active resumes a paused source.")
    reason: str | None = Field(None, max_length=500, description="Why (kept in the log).")


def source_model(row: SourceRow) -> Source:
    data = source_data(row)
    for key in ("last_change_at", "registered_at"):
        data[key] = moment(data[key])
    quoted = quote(row.name, safe="")
    data["links"] = SourceLinks(page=f"/sources/{quoted}",
                                versions=f"/api/v1/sources/{quoted}/versions",
                                changes=f"/api/v1/sources/{quoted}/changes")
    return Source(**data)


def _field(key: str) -> str:
    """A setting as the JSON body names it (monitor.adding's label)."""
    return key.replace("-", "_")


def _why(user_name: str, reason: str | None) -> str:
    """The reason kept in the log, with who gave the order."""
    return f"{reason.strip()} ({user_name}, API)" if reason and reason.strip() else \
        f"{user_name}, API"


@routes.get("/sources", summary="List the watched sources", response_model=SourcePage)
def list_sources(request: Request, _: Viewer,
                 state: Annotated[list[State] | None, Query(
                     description="Only these states (repeat for several); default: every "
                                 "state but removed.")] = None,
                 kind: Annotated[str | None, Query(max_length=32)] = None,
                 cursor: Annotated[str | None, Query(max_length=200, description=(
                     "`next` of the previous page."))] = None,
                 limit: Limit = 100) -> SourcePage:
    query = select(sources).order_by(sources.c.name).limit(limit + 1)
    query = query.where(sources.c.state.in_(state)) if state else \
        query.where(sources.c.state != "removed")
    if kind:
        query = query.where(sources.c.kind == kind)
    if cursor:
        query = query.where(sources.c.name > cursor)
    with web(request).engine.connect() as conn:
        rows = [SourceRow.of(r) for r in conn.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return SourcePage(items=[source_model(r) for r in rows],
                      next=rows[-1].name if more else None)


@routes.get("/sources/{name}", summary="One source", response_model=Source,
            responses=NOT_FOUND)
def get_source(request: Request, _: Viewer, name: str) -> Source:
    return source_model(source_row(request, name))


@routes.post("/sources", summary="Add a page to watch (nothing is fetched yet)",
             response_model=Registered, status_code=201,
             responses={200: {"model": Registered, "description":
                        "The URL was watched already: the existing source."},
                        409: problem("The source was removed earlier and stays removed.")})
def add_source(request: Request, response: Response, user: Editor,
               body: SourceToAdd) -> Registered:
    context = web(request)
    interval = f"{body.interval}s" if isinstance(body.interval, int) else body.interval
    wanted = Wanted(urls=(body.url,), name=body.name, kind=body.kind, interval=interval,
                    language=body.language, tags=tuple(body.tags or ()),
                    render=body.render, screenshot=body.screenshot)
    done = adding.add(context.store, context.config, wanted, label=_field)
    if not done.added and not done.existing:  # one URL, so it was removed earlier
        raise HTTPException(409, done.notes[0])
    name = (done.added or done.existing)[0]
    found = source_model(source_row(request, name))
    if done.added:
        response.headers["Location"] = f"/api/v1/sources/{quote(name, safe='')}"
    else:
        response.status_code = 200
    return Registered(source=found, created=bool(done.added), notes=list(done.notes))


@routes.patch("/sources/{name}", summary="Change the interval; pause or resume",
              response_model=Source,
              responses={**NOT_FOUND, 409: problem("The source was removed.")})
def change_source(request: Request, user: Editor, name: str, body: SourceChanges) -> Source:
    seconds = None
    if body.interval is not None:
        try:
            seconds = parse_interval(body.interval)
        except ValueError as exc:
            raise HTTPException(422, f"interval: {exc}") from None
    row = source_row(request, name)
    if row.state == "removed":
        raise HTTPException(409, f"source {name!r} was removed; its history is kept, but it "
                                 "cannot be changed")
    store, reason = web(request).store, _why(user.name, body.reason)
    if seconds is not None and seconds != row.interval_seconds:
        catalog.reconfigure(store, row.name, reason, interval_seconds=seconds)
    if body.state == "paused":
        catalog.pause(store, row.name, reason)
    elif body.state == "active":
        catalog.resume(store, row.name)
    return source_model(source_row(request, name))


@routes.delete("/sources/{name}", summary="Stop watching a source for good (history kept)",
               response_model=Source, responses=NOT_FOUND)
def remove_source(request: Request, user: Editor, name: str,
                  reason: Annotated[str | None, Query(max_length=500)] = None) -> Source:
    row = source_row(request, name)
    catalog.remove(web(request).store, row.name, _why(user.name, reason))
    return source_model(source_row(request, name))
