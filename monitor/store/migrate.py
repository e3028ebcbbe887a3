"""Run the Alembic migrations (the repo's `alembic/` folder) on a database."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from alembic import command
from monitor.errors import SchemaError
from monitor.store.database import WRITE

SCRIPT_LOCATION = Path(__file__).resolve().parents[2] / "alembic"


def _config(engine_conn: object) -> Config:
    if not SCRIPT_LOCATION.is_dir():
        raise SchemaError(
            f"migrations not found at {SCRIPT_LOCATION}; install govkz-monitor from its "
            "source tree (pip install -e .)"
        )
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = engine_conn
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        command.downgrade(_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def require_current(engine: Engine) -> None:
    """Refuse to work on a store that is not initialized or not at this code's schema."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise SchemaError("the store is not initialized; run `monitor init`")
    if current != head:
        raise SchemaError(
            f"the store's schema is at {current}, this program needs {head}; run `monitor init`"
        )
