"""What every resource of the JSON API shares: the error shape, how the document says
to authenticate, paging limits, finding a source or answering 404, and moments as
RFC 3339 text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from monitor.moments import utc_iso
from monitor.store.queries import find_source
from monitor.store.rows import SourceRow
from monitor.store.schema import sources
from monitor.web.context import web


class Problem(BaseModel):
    """Every error: one line that says what is wrong."""

    detail: str


# Declares the scheme in the OpenAPI document and on every operation. It checks
# nothing itself (auto_error=False): the role dependencies of monitor.web.auth do, and
# answer 401 with `WWW-Authenticate: Bearer` when the token is missing or unknown.
BEARER = HTTPBearer(
    scheme_name="bearer", auto_error=False,
    description="An API token made by `monitor tokens create --user NAME` (shown once), "
                "sent as `Authorization: Bearer gkm_…`. It acts as its user, with that "
                "user's role: viewer reads, editor also adds, pauses and removes sources.")



def problem(description: str) -> dict[str, Any]:
    """An error answer in the document: JSON whatever the route's own answer is (a
    version's text is text/plain, its 404 is not). monitor.web.api.openapi adds the
    Problem schema."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: problem("Refused: a value the monitor cannot use, or the store could not answer."),
    401: problem("No token, or one that is unknown or revoked."),
    403: problem("The token's user has too low a role."),
    422: problem("A parameter or the body is not valid."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such source (or version).")}

MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many items.")]
# Numbers the databases keep as integers: larger ones are no version or position.
MAX_NUMBER = 2 ** 31 - 1
MAX_POSITION = 2 ** 63 - 1


def source_row(request: Request, name: str) -> SourceRow:
    """The sources projection's row named `name` (removed ones too), or 404."""
    with web(request).engine.connect() as conn:
        row = find_source(conn, sources.c.name == name)
    if row is None:
        raise HTTPException(404, f"no source named {name!r}")
    return row


def moment(value: datetime | None) -> str | None:
    return None if value is None else utc_iso(value)
