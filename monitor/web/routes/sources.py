"""Sources: the list, adding a URL after a preview of what would be watched, and
pausing, resuming and removing, through the code `monitor add`, `pause`, `resume`
and `remove` run (monitor.adding, monitor.catalog): every change is an event."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from monitor import adding, catalog
from monitor.errors import FetchFailed, MonitorError, UsageError
from monitor.preview import PreviewFailed, preview
from monitor.store.queries import list_sources, source_by_stream
from monitor.web.auth import Editor, Viewer
from monitor.web.context import web
from monitor.web.durations import short_duration
from monitor.web.flash import flash, take_flash
from monitor.web.templating import gettext, render

MAX_IGNORE_LINES = 50


def field(key: str) -> str:
    """How a message names a setting on this page: by its form field (the checkbox
    "Read it in a browser" for `render`)."""
    if key == "render":
        return gettext("the box “Read it in a browser”")
    return key


@dataclass(frozen=True)
class SourceForm:
    """The "Add a source" form as it was filled in, to show it again."""

    url: str = ""
    name: str = ""
    kind: str = ""
    interval: str = ""
    ignore: str = ""
    render: str = ""  # the checkbox: "1" when ticked

    def wanted(self) -> adding.Wanted:
        lines = [line.strip() for line in self.ignore.splitlines() if line.strip()]
        if len(lines) > MAX_IGNORE_LINES:
            raise UsageError(gettext("ignore: at most %(most)d entries", most=MAX_IGNORE_LINES))
        return adding.Wanted(urls=(self.url,), name=self.name.strip() or None,
                             kind=self.kind.strip() or None,
                             interval=self.interval.strip() or None, ignore=tuple(lines),
                             render=bool(self.render))


def _form(url: str, name: str, kind: str, interval: str, ignore: str,
          render: str = "") -> SourceForm:
    return SourceForm(url.strip(), name, kind, interval, ignore, "1" if render else "")


Url = Annotated[str, Form(max_length=2000)]
Name = Annotated[str, Form(max_length=200)]
Kind = Annotated[str, Form(max_length=32)]
Interval = Annotated[str, Form(max_length=32)]
Ignore = Annotated[str, Form(max_length=10000)]
InBrowser = Annotated[str, Form(max_length=8, alias="render")]  # the "render" checkbox
ACTIONS = {"pause": catalog.pause, "resume": catalog.resume, "remove": catalog.remove}


def routes(app: FastAPI) -> None:
    @app.get("/sources", name="sources", include_in_schema=False)
    def sources_page(request: Request, user: Viewer, all: bool = False) -> Response:
        return _page(request, include_removed=all)

    @app.post("/sources/preview", name="preview_source", include_in_schema=False)
    async def preview_source(request: Request, user: Editor, url: Url, name: Name = "",
                             kind: Kind = "", interval: Interval = "",
                             ignore: Ignore = "", in_browser: InBrowser = "") -> Response:
        form = _form(url, name, kind, interval, ignore, in_browser)
        context = web(request)
        try:
            found = await run_in_threadpool(preview, context.store, context.config,
                                            form.wanted(), field)
        except MonitorError as exc:
            return _page(request, form=form, error=str(exc), status=_status(exc))
        return render(request, "source_preview.html", form=asdict(form), preview=found,
                      error=None, kinds=_kinds(), duration=short_duration)

    @app.post("/sources", name="add_source", include_in_schema=False)
    async def add_source(request: Request, user: Editor, url: Url, name: Name = "",
                         kind: Kind = "", interval: Interval = "",
                         ignore: Ignore = "", in_browser: InBrowser = "") -> Response:
        form = _form(url, name, kind, interval, ignore, in_browser)
        context = web(request)
        try:
            done = await run_in_threadpool(adding.add, context.store, context.config,
                                           form.wanted(), field)
        except MonitorError as exc:
            return _page(request, form=form, error=str(exc), status=_status(exc))
        said = [gettext("Watching %(name)s now.", name=n) for n in done.added] + done.notes
        # Neither added nor watched already: it was removed for good, and stays removed.
        flash(request, " ".join(said), error=not done.added and not done.existing)
        return RedirectResponse(app.url_path_for("sources"), 303)

    def action_route(action: str) -> None:
        change = ACTIONS[action]

        async def act(request: Request, user: Editor, name: str) -> Response:
            store = web(request).store
            if source_by_stream(store.engine, name) is None:
                raise HTTPException(404, gettext("No source is named %(name)s.", name=name))
            try:
                done = change(store, name)
            except UsageError as exc:  # e.g. resuming a removed source
                flash(request, str(exc), error=True)
            else:
                flash(request, _said(action, name, done))
            return RedirectResponse(app.url_path_for("sources"), 303)

        app.add_api_route(f"/sources/{{name}}/{action}", act, methods=["POST"],
                          name=f"{action}_source", include_in_schema=False)

    for action in ACTIONS:
        action_route(action)


def _said(action: str, name: str, done: bool) -> str:
    if not done:
        return {"pause": gettext("%(name)s was paused already; nothing recorded.", name=name),
                "resume": gettext("%(name)s was not paused; nothing recorded.", name=name),
                "remove": gettext("%(name)s was removed already; nothing recorded.", name=name),
                }[action]
    return {"pause": gettext("%(name)s is paused.", name=name),
            "resume": gettext("%(name)s is checked again.", name=name),
            "remove": gettext("%(name)s is removed; its history is kept.", name=name)}[action]


def _status(exc: MonitorError) -> int:
    """A page that could not be read is not a mistake in the form: 422, not 400."""
    return 422 if isinstance(exc, FetchFailed | PreviewFailed) else 400


def _kinds() -> list[str]:
    from monitor.sources import KINDS

    return sorted(KINDS)


def _page(request: Request, include_removed: bool = False, form: SourceForm | None = None,
          error: str | None = None, status: int = 200) -> Response:
    rows = list_sources(web(request).engine, include_removed=include_removed)
    return render(request, "sources.html", status=status, sources=rows,
                  include_removed=include_removed, form=asdict(form or SourceForm()),
                  error=error, message=take_flash(request), kinds=_kinds(),
                  duration=short_duration)
