"""What keeps a downgrade from deleting the log: `alembic downgrade base` once dropped
the event log without a word (issue 9).

Imported by the migrations in alembic/versions, which must keep working as the code
changes: keep this module small and its signature stable.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, table

from monitor.errors import SchemaError


def refuse_to_drop(bind: Connection, holds: dict[str, str], revision: str) -> None:
    """Raise before anything is dropped if a table in `holds` (name -> what they hold,
    e.g. "the event log") has rows. An empty store may still go down."""
    kept = []
    for name, what in holds.items():
        rows = bind.execute(select(func.count()).select_from(table(name))).scalar_one()
        if rows:
            kept.append(f"{name} ({what}) has {rows} row{'s' if rows != 1 else ''}")
    if kept:
        raise SchemaError(
            f"refusing to downgrade below {revision}: it would drop tables that hold the "
            f"record: {', '.join(kept)}. Nothing was changed. Back the store up; to delete "
            "the record on purpose, drop those tables by hand"
        )
