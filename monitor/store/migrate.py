"""Run the Alembic migrations (shipped in the package, see monitor/shipped.py) on a database.

Checking that a store is at this code's schema is done without Alembic: every
command pays for that check, and importing Alembic (with Mako and Pygments) and
loading its script directory took most of a second. The current revision is read
from `alembic_version` with SQLAlchemy; the head is found by reading the
`revision` / `down_revision` assignments of the files in alembic/versions. Should
those not be plain literals, Alembic itself is asked.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from monitor.errors import SchemaError
from monitor.shipped import migrations
from monitor.store.database import WRITE, busy_timeout
from monitor.store.faults import describe_store, store_error, translated

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = migrations()


def _config(engine_conn: object) -> Config:
    from alembic.config import Config

    if not (SCRIPT_LOCATION / "env.py").is_file():
        raise SchemaError(
            f"the schema migrations are missing from the installed package "
            f"({SCRIPT_LOCATION}); reinstall govkz-monitor (pip install .)"
        )
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = engine_conn
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with translated(engine), engine.connect().execution_options(**WRITE) as conn, conn.begin():
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with translated(engine), engine.connect().execution_options(**WRITE) as conn, conn.begin():
        command.downgrade(_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at; None when it was never initialized.

    Only a missing table means "not initialized": a server that is down, a locked,
    full or unreadable store raises the error that says so."""
    try:
        with engine.connect() as conn:
            found = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError as exc:
        error = store_error(exc, engine.url, busy_timeout(engine))
        if type(error) is SchemaError:  # no alembic_version table
            return None
        raise error from exc
    if len(found) > 1:
        raise SchemaError(f"the store is at several schema revisions at once ({found})")
    return found[0] if found else None


def head_revision() -> str | None:
    return _head_revision()


@cache
def _head_revision() -> str | None:
    versions = SCRIPT_LOCATION / "versions"
    if not versions.is_dir():
        _config(None)  # raises the SchemaError that says how to install
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        found = _revision_of(path)
        if found is None:
            return _alembic_head()
        revision, down = found
        revisions.add(revision)
        parents.update(down)
    heads = revisions - parents
    if len(heads) != 1:
        return _alembic_head()  # several heads or none: let Alembic say what it makes of it
    return heads.pop()


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, down revisions) of a migration file, or None if not plain literals."""
    values: dict[str, object] = {}
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    try:
                        values[target.id] = ast.literal_eval(node.value)  # type: ignore[arg-type]
                    except ValueError:
                        return None
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)  # type: ignore[arg-type]
    return None


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()


def require_current(engine: Engine) -> None:
    """Refuse to work on a store that is not initialized or not at this code's schema."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise SchemaError(f"{describe_store(engine.url)} is not initialized; run `monitor init`")
    if current != head:
        raise SchemaError(_schema_mismatch(current, head))


def _schema_mismatch(current: str, head: str | None) -> str:
    """Older schemas are upgraded by `init`; a newer one was written by a newer program."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        known = ScriptDirectory.from_config(_config(None)).get_revision(current) is not None
    except CommandError:
        known = False
    if known:
        return (f"the store's schema is at {current}, older than this program's {head}; "
                "run `monitor init` to upgrade it")
    return (f"the store's schema is at {current}, newer than this program knows (it needs "
            f"{head}): it was written by a newer govkz-monitor; upgrade this one")
