"""Backups: a consistent copy of a store taken while it is written, and its restore into
an empty store of either kind.

What is copied. The log and what cannot be derived from it (RECORD), the operational state
nobody can rebuild (STATE); never the projections (DERIVED), which a restore rebuilds from
the log with the same replay as `monitor rebuild`. Every table the schema has must be in
one of the three: a table in none of them is refused by `backup`, so a new migration's
table cannot be left out of backups unnoticed (tests/test_backup.py checks the head schema).

The file is a tar archive:
- `manifest.json`: the format, the schema revision, the database kind it came from, each
  member's sha256 and size (and unpacked size, and a table's longest line), each table's
  row count and columns, the head of the log (the last event's position and hash), the
  checkpoint key's id;
- `logical` format: `tables/NAME.jsonl.zst`, one JSON array per row (bytes in base64,
  moments in ISO 8601; an event's data as stored, packed or not), written inside one read
  transaction (a snapshot: REPEATABLE READ on PostgreSQL, a WAL read transaction on
  SQLite), so appends made meanwhile are either all in or all out;
- `sqlite` format: `store.sqlite.zst`, a copy made with SQLite's online backup API (one
  step: a consistent snapshot), then made self-contained (journal_mode DELETE);
- `files/witness.jsonl` when the witness file exists (public); `files/checkpoint.ed25519`,
  the private signing key, only when asked for (`--with-keys`).

A restore checks all of it (members' sha256, row counts, the head, the schema revision)
before it writes anything, unpacking no more than the manifest says (and never a line
longer than LINE_MAX), then loads every table in one transaction, checks the loaded
log's hash chains, and replays the projections: a restore that fails leaves the tables
empty.

Here: which tables are copied, and how a row's values are written. `write` makes a
backup, `read` opens and checks one, `restore` loads it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    inspect,
    select,
    text,
    type_coerce,
)

from monitor.alerts.schema import deliveries, dispatch_positions
from monitor.errors import UsageError
from monitor.store import search_index
from monitor.store.packing import StoredJSON
from monitor.store.schema import (
    blobs,
    changes,
    check_ledger,
    check_sources,
    events,
    page_keys,
    sources,
    streams,
    versions,
)
from monitor.web.accounts.schema import (
    api_tokens,
    invites,
    login_failures,
    public_feeds,
    users,
    web_secrets,
)

FORMAT = "govkz-monitor backup 1"

# The record: the log and the evidence `verify` checks with it (the check ledger is not
# events: its rows are committed to by ChecksSummarized events). What `--log-only` restores.
RECORD: tuple[Table, ...] = (events, streams, blobs, check_sources, check_ledger)
# Operational state, not derivable: accounts and tokens, the web app's secrets and public
# feeds, the alert outbox and the dispatchers' positions, the page keys (relearning holds).
STATE: tuple[Table, ...] = (page_keys, deliveries, dispatch_positions, users, api_tokens,
                            invites, login_failures, web_secrets, public_feeds)
# Rebuilt from the log by every restore (and `monitor rebuild`); never copied.
DERIVED = frozenset({sources.name, versions.name, changes.name, "alembic_version"}
                    | search_index.DIALECT_TABLES)
COPIED = {table.name: table for table in RECORD + STATE}
# Neither copied nor rebuilt: what a restored store is right to start without (a running
# process's own marks: the daemons' heartbeats, which `monitor status` reads).
TRANSIENT: frozenset[str] = frozenset({"daemon_heartbeats"})

CHUNK = 1 << 20
# The longest JSON line (one row) a logical backup holds. The largest row is a blob: a raw
# capture of at most fetch.max_bytes (10 MB by default) as stored, zstd-compressed (at
# worst 1/256 larger), then base64 (4/3): 10 MiB -> 13.4 MiB. 64 MiB leaves room for
# fetch.max_bytes up to about 47 MiB; `backup` refuses a row above it (it would not restore).
LINE_MAX = 64 << 20
# A manifest is a few KB (14 tables, their columns and sizes).
MANIFEST_MAX = 1 << 20


def unpacked_cap(info: dict[str, Any]) -> int:
    """The most bytes a member may unpack to: what the manifest says (since `unpacked` was
    recorded), and never more than real data unpacks to (zstd makes JSON lines and SQLite
    pages 3 to 30 times smaller, never 1000 times but for runs of one byte: a bomb)."""
    ceiling = (1 << 30) + 1000 * int(info["size"])
    return min(int(info["unpacked"]), ceiling) if "unpacked" in info else ceiling
KEY_MEMBER = "files/checkpoint.ed25519"
WITNESS_MEMBER = "files/witness.jsonl"
STORE_MEMBER = "store.sqlite.zst"


def unclassified(names: list[str]) -> list[str]:
    """The tables of a store that backups do not know (SQLite's own tables aside)."""
    return sorted(n for n in names if n not in COPIED and n not in DERIVED
                  and n not in TRANSIENT and not n.startswith("sqlite_"))


def refuse_unclassified(conn: Connection) -> None:
    unknown = unclassified(inspect(conn).get_table_names())
    if unknown:
        raise UsageError(
            f"the store has table(s) backups do not know: {', '.join(unknown)}; nothing was "
            "written (classify them in monitor/backup/__init__.py: copied, rebuilt or transient)")


# --- values: one JSON array per row ------------------------------------------------------

def value_kinds(table: Table) -> list[str]:
    kinds = []
    for column in table.columns:
        if isinstance(column.type, LargeBinary):
            kinds.append("bytes")
        elif isinstance(column.type, DateTime):
            kinds.append("moment")
        else:
            kinds.append("json")
    return kinds


def stored_columns(table: Table) -> list[Any]:
    # An event's data as stored (a change's is packed): StoredJSON would unpack it.
    return [type_coerce(c, JSON).label(c.name) if isinstance(c.type, StoredJSON) else c
            for c in table.columns]


def encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "moment":
        return value.isoformat()
    return value


def decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "moment":
        return datetime.fromisoformat(value)
    return value

def check_row(table: Table, row: dict[str, Any]) -> None:
    """Refuse (ValueError) a decoded row whose values this schema's columns cannot hold: a
    SQLite table takes a string in an integer column, and the code reading it later would
    not expect one."""
    for name, nullable, wanted in _column_types(table):
        value = row[name]
        if value is None:
            if not nullable:
                raise ValueError(f"{name} is empty")
        elif wanted is not None and (type(value) is not wanted
                                     and (not isinstance(value, wanted) or
                                          (wanted is int and isinstance(value, bool)))):
            raise ValueError(f"{name} holds a {type(value).__name__}, not a "
                             f"{wanted.__name__}")


@functools.cache
def _column_types(table: Table) -> list[tuple[str, bool, type | None]]:
    """Each column's name, whether it may be empty, and the Python type of its values
    (None: any JSON value)."""
    found: list[tuple[str, bool, type | None]] = []
    for column in table.columns:
        wanted: type | None = None
        for sql_type, python in ((LargeBinary, bytes), (DateTime, datetime), (Boolean, bool),
                                 (Integer, int), (String, str)):
            if isinstance(column.type, sql_type):
                wanted = python
                break
        found.append((column.name, bool(column.nullable), wanted))
    return found


def head_of(row: list[Any]) -> dict[str, Any]:
    """The head of the log as the manifest names it, from the last events row."""
    names = list(events.c.keys())
    return {"position": row[names.index("position")], "hash": row[names.index("hash")]}


def describe_copy(conn: Connection) -> dict[str, Any]:
    """The manifest's description of a copied SQLite store: its revision, counts, head."""
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    tables = {t.name: {"rows": conn.execute(select(func.count()).select_from(t)).scalar_one(),
                       "columns": [c.name for c in t.columns]} for t in RECORD + STATE}
    last = conn.execute(select(events.c.position, events.c.hash)
                        .order_by(events.c.position.desc()).limit(1)).first()
    head = {"position": last.position, "hash": last.hash} if last is not None else None
    return {"schema": revision, "tables": tables, "head": head}


def member_info(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "size": path.stat().st_size}
