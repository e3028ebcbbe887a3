"""Live Atom feeds (global, per source, per tag), the page that lists them, and the
admin's public marks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from monitor.store.queries import list_sources
from monitor.web.accounts.public_feeds import mark_public, public_keys, unmark_public
from monitor.web.auth import Admin, FeedReader, Viewer
from monitor.web.context import site_url, web
from monitor.web.feeds import (
    EVERY_CHANGE,
    SOURCE,
    TAG,
    Feed,
    feed_atom,
    feed_of_key,
    feed_of_path,
    feed_sources,
    sources_by_tag,
)
from monitor.web.language import reader_of
from monitor.web.templating import gettext, render

ATOM_TYPE = "application/atom+xml; charset=utf-8"


def routes(app: FastAPI) -> None:
    @app.get("/feeds", name="feeds", include_in_schema=False)
    def feeds_page(request: Request, user: Viewer) -> Response:
        return _page(request)

    @app.post("/feeds/public", include_in_schema=False)
    def mark(request: Request, user: Admin, feed: Annotated[str, Form(max_length=400)],
             public: Annotated[str, Form(max_length=1)] = "1") -> Response:
        engine = web(request).engine
        chosen = feed_of_key(feed)
        if public != "1":
            unmark_public(engine, feed)
            return RedirectResponse("/feeds", 303)
        if chosen is None or feed_sources(engine, chosen) == set():
            return _page(request, status=400, error=gettext(
                "There is no feed %(key)s to make public.", key=feed))
        mark_public(engine, chosen.key, user.name)
        return RedirectResponse("/feeds", 303)

    def serve_feed(request: Request) -> Response:
        engine = web(request).engine
        feed = feed_of_path(request.path_params)
        names = feed_sources(engine, feed)
        if names == set():
            raise HTTPException(404, gettext("There is no feed %(key)s: no such source or tag.",
                                             key=feed.key))
        now = datetime.now(UTC).replace(tzinfo=None)
        body = feed_atom(engine, feed, names, site_url(request), now, reader_of(request))
        return Response(body, media_type=ATOM_TYPE)

    @app.get("/feeds/all.atom", name="feed_all", include_in_schema=False)
    def all_feed(request: Request, reader: FeedReader) -> Response:
        return serve_feed(request)

    @app.get("/feeds/sources/{source}.atom", name="feed_source", include_in_schema=False)
    def source_feed(request: Request, reader: FeedReader, source: str) -> Response:
        return serve_feed(request)

    @app.get("/feeds/tags/{tag:path}.atom", name="feed_tag", include_in_schema=False)
    def tag_feed(request: Request, reader: FeedReader, tag: str) -> Response:
        return serve_feed(request)


def _page(request: Request, status: int = 200, error: str | None = None) -> Response:
    engine = web(request).engine
    tagged = sources_by_tag(engine)
    listed: list[tuple[Feed, str | None, int | None]] = [(EVERY_CHANGE, None, None)]
    listed += [(Feed(TAG, tag), None, len(names)) for tag, names in tagged.items()]
    listed += [(Feed(SOURCE, s.name), s.title, None) for s in list_sources(engine)]
    marked = public_keys(engine)
    shown = {feed.key for feed, _, _ in listed}
    stale = sorted(k for k in marked if k not in shown)  # a mark whose source or tag is gone
    return render(request, "feeds.html", status=status, error=error, feeds=listed,
                  marked=marked, stale=stale, site=site_url(request))
