"""Finding what a document URL names: the source, and a stored version of it. What is
not there is a 404 with one line saying so; a number that is not a number is a 400."""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy import select

from monitor.store.queries import find_source
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.schema import sources, versions
from monitor.web.context import web
from monitor.web.speech import gettext

MAX_DIGITS = 9  # past any stored version, and well inside every database's integers


def source_named(request: Request, name: str) -> SourceRow:
    with web(request).engine.connect() as conn:
        row = find_source(conn, sources.c.name == name)
    if row is None:
        raise HTTPException(404, gettext("No source is named %(name)s.", name=name))
    return row


def version_number(value: str, what: str) -> int:
    """A version number given in a URL: ASCII digits only (int() takes '١٢' too)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise HTTPException(400, gettext("%(what)s: %(value)s is not a version number "
                                         "(1, 2, 3…).", what=what, value=value[:40]))
    if len(text) > MAX_DIGITS:
        raise HTTPException(404, gettext("There is no version %(number)s.", number=text[:40]))
    return int(text)


def stored_version(request: Request, source: SourceRow, number: int) -> VersionRow:
    with web(request).engine.connect() as conn:
        row = conn.execute(select(versions).where(
            versions.c.stream_id == source.stream_id,
            versions.c.document_version == number)).first()
    if row is None:
        raise HTTPException(404, missing_version(source, number))
    return VersionRow.of(row)


def missing_version(source: SourceRow, number: int) -> str:
    if source.document_version == 0:
        return gettext("%(name)s has no stored version yet.", name=source.name)
    return gettext("%(name)s has no version %(number)s (versions 1 to %(last)s).",
                   name=source.name, number=number, last=source.document_version)
