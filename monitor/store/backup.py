"""Backups: a consistent copy of a store taken while it is written, and its restore into
an empty store of either kind.

What is copied. The log and what cannot be derived from it (RECORD), the operational state
nobody can rebuild (STATE); never the projections (DERIVED), which a restore rebuilds from
the log with the same replay as `monitor rebuild`. Every table the schema has must be in
one of the three: a table in none of them is refused by `backup`, so a new migration's
table cannot be left out of backups unnoticed (tests/test_backup.py checks the head schema).

The file is a tar archive:
- `manifest.json`: the format, the schema revision, the database kind it came from, each
  member's sha256 and size, each table's row count and columns, the head of the log (the
  last event's position and hash), the checkpoint key's id;
- `logical` format: `tables/NAME.jsonl.zst`, one JSON array per row (bytes in base64,
  moments in ISO 8601; an event's data as stored, packed or not), written inside one read
  transaction (a snapshot: REPEATABLE READ on PostgreSQL, a WAL read transaction on
  SQLite), so appends made meanwhile are either all in or all out;
- `sqlite` format: `store.sqlite.zst`, a copy made with SQLite's online backup API (one
  step: a consistent snapshot), then made self-contained (journal_mode DELETE);
- `files/witness.jsonl` when the witness file exists (public); `files/checkpoint.ed25519`,
  the private signing key, only when asked for (`--with-keys`).

A restore checks all of it (members' sha256, row counts, the head, the schema revision)
before it writes anything, then loads every table in one transaction together with the
replay of the projections: a restore that fails leaves the tables empty.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote

import zstandard
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
    type_coerce,
)

from monitor.alerts.schema import deliveries, dispatch_positions
from monitor.errors import PersistenceError, UsageError
from monitor.store import migrate, projections, search_index
from monitor.store.database import WRITE, open_engine, serialize_appends
from monitor.store.faults import translated
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
FORMATS = ("sqlite", "logical")

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

_BATCH = 500
_CHUNK = 1 << 20
KEY_MEMBER = "files/checkpoint.ed25519"
WITNESS_MEMBER = "files/witness.jsonl"
STORE_MEMBER = "store.sqlite.zst"


def unclassified(names: list[str]) -> list[str]:
    """The tables of a store that backups do not know (SQLite's own tables aside)."""
    return sorted(n for n in names
                  if n not in COPIED and n not in DERIVED and not n.startswith("sqlite_"))


def _refuse_unclassified(conn: Connection) -> None:
    unknown = unclassified(inspect(conn).get_table_names())
    if unknown:
        raise UsageError(
            f"the store has table(s) backups do not know: {', '.join(unknown)}; nothing was "
            "written (classify them in monitor/store/backup.py: copied or rebuilt)")


# --- values: one JSON array per row ------------------------------------------------------

def _kinds(table: Table) -> list[str]:
    kinds = []
    for column in table.columns:
        if isinstance(column.type, LargeBinary):
            kinds.append("bytes")
        elif isinstance(column.type, DateTime):
            kinds.append("moment")
        else:
            kinds.append("json")
    return kinds


def _columns(table: Table) -> list[Any]:
    # An event's data as stored (a change's is packed): StoredJSON would unpack it.
    return [type_coerce(c, JSON).label(c.name) if isinstance(c.type, StoredJSON) else c
            for c in table.columns]


def _encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "moment":
        return value.isoformat()
    return value


def _decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "moment":
        return datetime.fromisoformat(value)
    return value


# --- writing ---------------------------------------------------------------------------

@dataclass
class Written:
    path: Path
    manifest: dict[str, Any]


def write_backup(engine: Engine, output: Path, fmt: str, *, key_file: Path | None,
                 witness_file: Path | None, key_id: str | None) -> Written:
    """Write the backup of the store behind `engine` to `output` (which must not exist);
    `key_file`: the private key to put in it, if asked; `witness_file`: the witness file
    when there is one; `key_id`: the id of the store's checkpoint key, if known."""
    if output.exists():
        raise UsageError(f"{output} exists: a backup never replaces a file (choose another)")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent} is not a folder")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=output.parent) as work:
        folder = Path(work)
        # The files before the snapshot: every checkpoint the witness names then covers
        # events already committed, so the copied log holds all it witnesses.
        files = {}
        for member, source in ((WITNESS_MEMBER, witness_file), (KEY_MEMBER, key_file)):
            if source is not None:
                target = folder / member
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(source.read_bytes())
                files[member] = _member_info(target)
        if fmt == "sqlite":
            manifest = _sqlite_members(engine, folder)
        else:
            manifest = _logical_members(engine, folder)
        manifest.update(format=FORMAT, kind=fmt, taken_at=datetime.now(UTC).isoformat(),
                        source=engine.dialect.name, key_id=key_id, files=files)
        partial = folder / "backup.tar"
        _write_tar(partial, folder, manifest)
        os.replace(partial, output)
    return Written(output, manifest)


def _member_info(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "size": path.stat().st_size}


def _write_tar(partial: Path, folder: Path, manifest: dict[str, Any]) -> None:
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # accounts, secrets
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                  format=tarfile.PAX_FORMAT) as tar:
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size, info.mode = len(body), 0o600
        tar.addfile(info, io.BytesIO(body))
        names = [m["member"] for m in manifest["tables"].values() if "member" in m]
        names += ([STORE_MEMBER] if "store" in manifest else []) + list(manifest["files"])
        for name in names:
            tar.add(folder / name, arcname=name, recursive=False, filter=_private)
        tar.close()
        raw.flush()
        os.fsync(raw.fileno())


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Members as the owner's alone (the key, accounts, the app's secrets), owned by no one
    in particular: extracting the key must give a file `load_signing_key` accepts."""
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _logical_members(engine: Engine, folder: Path) -> dict[str, Any]:
    (folder / "tables").mkdir()
    tables: dict[str, Any] = {}
    with translated(engine), engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():  # one snapshot for every table
            _refuse_unclassified(conn)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            head = None
            for table in RECORD + STATE:
                member = f"tables/{table.name}.jsonl.zst"
                rows, last = _dump(conn, table, folder / member)
                tables[table.name] = {"member": member, "rows": rows,
                                      "columns": [c.name for c in table.columns],
                                      **_member_info(folder / member)}
                if table is events and last is not None:
                    head = _head(last)
    return {"schema": revision, "tables": tables, "head": head}


def _head(row: list[Any]) -> dict[str, Any]:
    """The head of the log as the manifest names it, from the last events row."""
    names = list(events.c.keys())
    return {"position": row[names.index("position")], "hash": row[names.index("hash")]}


def _dump(conn: Connection, table: Table, path: Path) -> tuple[int, list[Any] | None]:
    kinds = _kinds(table)
    count, last = 0, None
    order = list(table.primary_key.columns)
    rows = conn.execution_options(yield_per=1000).execute(
        select(*_columns(table)).order_by(*order))
    with path.open("wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for row in rows:
            last = [_encode(v, k) for v, k in zip(row, kinds, strict=True)]
            out.write(json.dumps(last, ensure_ascii=False, separators=(",", ":")).encode())
            out.write(b"\n")
            count += 1
    return count, last


def _sqlite_members(engine: Engine, folder: Path) -> dict[str, Any]:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        raise UsageError("--kind sqlite copies a SQLite store's file; for PostgreSQL use "
                         "--kind logical")
    database = _sqlite_path(engine)
    copy = folder / "store.sqlite"
    try:
        source = sqlite3.connect(f"file:{quote(database)}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # the copy is one file
        finally:
            source.close()
            target.close()
    except sqlite3.Error as exc:
        raise PersistenceError(f"cannot copy {database}: {exc}") from None
    probe = open_engine(f"sqlite:///{copy}", read_only=True)
    try:
        with probe.connect() as conn:
            _refuse_unclassified(conn)
            manifest = _describe(conn)
    finally:
        probe.dispose()
    with copy.open("rb") as raw, (folder / STORE_MEMBER).open("wb") as out:
        zstandard.ZstdCompressor(level=3).copy_stream(raw, out)
    copy.unlink()
    manifest["store"] = {"member": STORE_MEMBER, **_member_info(folder / STORE_MEMBER)}
    return manifest


def _sqlite_path(engine: Engine) -> str:
    database = str(engine.url.database)
    if database.startswith("file:"):  # a read-only engine's URI form
        return unquote(database[len("file:"):])
    return str(Path(database).expanduser().resolve())


def _describe(conn: Connection) -> dict[str, Any]:
    """The manifest's description of a copied SQLite store: its revision, counts, head."""
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    tables = {t.name: {"rows": conn.execute(select(func.count()).select_from(t)).scalar_one(),
                       "columns": [c.name for c in t.columns]} for t in RECORD + STATE}
    last = conn.execute(select(events.c.position, events.c.hash)
                        .order_by(events.c.position.desc()).limit(1)).first()
    head = {"position": last.position, "hash": last.hash} if last is not None else None
    return {"schema": revision, "tables": tables, "head": head}


# --- reading ---------------------------------------------------------------------------

class Damaged(UsageError):
    """The backup file is not one, or not whole, or not what its manifest says."""


@dataclass
class Backup:
    """An opened, checked backup: its manifest, its rows, its files."""

    path: Path
    manifest: dict[str, Any]
    _tar: tarfile.TarFile
    _stack: ExitStack
    _copy: Engine | None = None
    files: dict[str, bytes] = field(default_factory=dict)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def events(self) -> int:
        return int(self.manifest["tables"]["events"]["rows"])

    def rows(self, table: Table) -> Iterator[dict[str, Any]]:
        """The table's rows as values to insert."""
        names = [c.name for c in table.columns]
        if self._copy is not None:
            with self._copy.connect() as conn:
                found = conn.execution_options(yield_per=1000).execute(
                    select(*_columns(table)).order_by(*table.primary_key.columns))
                for row in found:
                    yield dict(zip(names, row, strict=True))
            return
        kinds = _kinds(table)
        for line in _lines(self._tar, self.manifest["tables"][table.name]["member"]):
            values = json.loads(line)
            yield {n: _decode(v, k) for n, v, k in zip(names, values, kinds, strict=True)}


def open_backup(path: Path) -> Backup:
    """Open `path` and check it whole before anything is written: every member's sha256
    and size, each table's row count, the head of the log, the schema revision."""
    stack = ExitStack()
    try:
        return _open(path, stack)
    except BaseException:
        stack.close()
        raise


def _open(path: Path, stack: ExitStack) -> Backup:
    try:
        tar = stack.enter_context(tarfile.open(path, mode="r:"))  # noqa: SIM115 - the stack
        first = tar.next()  # the manifest comes first: read before the rest is looked at
        if first is None or first.name != "manifest.json":
            raise KeyError("manifest.json")
        handle = tar.extractfile(first)
        if handle is None:
            raise KeyError("manifest.json")
        manifest = json.loads(handle.read())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: a folder, not a backup file") from None
    except (tarfile.TarError, KeyError, ValueError, EOFError, OSError):
        raise Damaged(f"{path} is not a govkz-monitor backup (no readable manifest)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        said = manifest.get("format") if isinstance(manifest, dict) else None
        raise Damaged(f"{path} is not a govkz-monitor backup this program reads "
                      f"(format {str(said)[:40]!r})")
    try:
        backup = _checked(path, tar, manifest, stack)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Damaged(f"{path}: the manifest is not one a backup writes ({type(exc).__name__}: "
                      f"{str(exc)[:80]})") from None
    return backup


def _checked(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any],
             stack: ExitStack) -> Backup:
    _check_schema(path, manifest)
    tables = manifest["tables"]
    for table in RECORD + STATE:
        found = tables.get(table.name)
        if found is None:
            raise Damaged(f"{path}: the manifest has no table {table.name}")
        if found["columns"] != [c.name for c in table.columns]:
            raise Damaged(f"{path}: table {table.name}'s columns are not this schema's")
    backup = Backup(path, manifest, tar, stack)
    for member, info in manifest["files"].items():
        if member not in (KEY_MEMBER, WITNESS_MEMBER):
            raise Damaged(f"{path}: unknown file {member!r} in the manifest")
        body = _checked_member(path, tar, member, info)
        backup.files[member] = body
    if manifest["kind"] == "sqlite":
        backup._copy = _open_copy(path, tar, manifest, stack)
        with backup._copy.connect() as conn:
            found = _describe(conn)
        for name, table in found["tables"].items():
            if table["rows"] != tables[name]["rows"]:
                raise Damaged(f"{path}: table {name} holds {table['rows']} rows, the manifest "
                              f"says {tables[name]['rows']}")
        if found["schema"] != manifest["schema"]:
            raise Damaged(f"{path}: the copy is at schema {found['schema']}, the manifest "
                          f"says {manifest['schema']}")
        if found["head"] != manifest["head"]:
            raise Damaged(f"{path}: the copy's last event is not the manifest's head")
    elif manifest["kind"] == "logical":
        for table in RECORD + STATE:
            _check_table(path, tar, table, tables[table.name], manifest["head"])
    else:
        raise Damaged(f"{path}: unknown kind {str(manifest['kind'])[:20]!r}")
    return backup


def _check_schema(path: Path, manifest: dict[str, Any]) -> None:
    revision, head = manifest["schema"], migrate.head_revision()
    if revision == head:
        return
    older = isinstance(revision, str) and revision.isdigit() and isinstance(head, str) \
        and head.isdigit() and int(revision) < int(head)
    if older:
        raise UsageError(
            f"{path} holds a store at schema {revision}, older than this program's {head}: "
            "restore it with the govkz-monitor that made it, run `monitor init` there to "
            "upgrade the store, and back it up again")
    raise UsageError(f"{path} holds a store at schema {str(revision)[:20]}, which this program "
                     f"does not know (it knows up to {head}): restore it with a newer "
                     "govkz-monitor")


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    info = tar.getmember(name)
    if not info.isfile():
        raise KeyError(name)
    handle = tar.extractfile(info)
    if handle is None:
        raise KeyError(name)
    return handle


def _checked_member(path: Path, tar: tarfile.TarFile, member: str, info: dict[str, Any],
                    sink: Callable[[bytes], object] | None = None) -> bytes:
    """The member's bytes (or, with `sink`, handed to it), refused unless its size and
    sha256 are the manifest's."""
    try:
        handle = _member(tar, member)
    except KeyError:
        raise Damaged(f"{path}: {member} is missing") from None
    except (tarfile.TarError, OSError, EOFError):
        raise Damaged(f"{path}: cut short before {member}") from None
    digest, size, kept = hashlib.sha256(), 0, io.BytesIO()
    write = sink or kept.write
    try:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            write(chunk)
    except (tarfile.TarError, OSError, EOFError):
        raise Damaged(f"{path}: {member} is cut short") from None
    if size != info["size"] or digest.hexdigest() != info["sha256"]:
        raise Damaged(f"{path}: {member} is not what the manifest says (sha256 or size "
                      "differs): the backup was damaged or altered")
    return kept.getvalue()


def _check_table(path: Path, tar: tarfile.TarFile, table: Table, info: dict[str, Any],
                 head: dict[str, Any] | None) -> None:
    member = info["member"]
    _checked_member(path, tar, member, info, sink=lambda _chunk: None)
    count, last = 0, None
    try:
        for line in _lines(tar, member):
            count += 1
            last = line
    except zstandard.ZstdError:
        raise Damaged(f"{path}: {member} does not decompress") from None
    if count != info["rows"]:
        raise Damaged(f"{path}: {member} holds {count} rows, the manifest says {info['rows']}")
    ends = _head(json.loads(last)) if table is events and last is not None else None
    if table is events and ends != head:
        raise Damaged(f"{path}: the log's last event is not the manifest's head")


def _lines(tar: tarfile.TarFile, member: str) -> Iterator[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(_member(tar, member)) as raw:
        yield from io.BufferedReader(raw, buffer_size=_CHUNK)  # type: ignore[arg-type]


def _open_copy(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any],
               stack: ExitStack) -> Engine:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-restore-")))
    packed = folder / STORE_MEMBER
    with packed.open("wb") as sink:
        _checked_member(path, tar, STORE_MEMBER, manifest["store"], sink=sink.write)
    copy = folder / "store.sqlite"
    try:
        with packed.open("rb") as raw, copy.open("wb") as out:
            zstandard.ZstdDecompressor().copy_stream(raw, out)
    except zstandard.ZstdError:
        raise Damaged(f"{path}: {STORE_MEMBER} does not decompress") from None
    packed.unlink()
    engine = open_engine(f"sqlite:///{copy}", read_only=True)
    stack.callback(engine.dispose)
    return engine


# --- restoring -------------------------------------------------------------------------

def nonempty(engine: Engine) -> str | None:
    """Why the store at `engine` is not an empty one to restore into (None: it is)."""
    revision = migrate.current_revision(engine)
    with translated(engine), engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        if revision is not None and revision != migrate.head_revision():
            return f"it is at schema {revision}"
        for table in (*RECORD, *STATE, sources):
            if table.name in present and conn.execute(
                    select(func.count()).select_from(table)).scalar_one():
                return f"its table {table.name} has rows"
        if revision is None and present & set(COPIED):
            return "it has the monitor's tables but no schema revision"
    return None


@dataclass
class Restored:
    rows: dict[str, int]
    replayed: int


def restore(backup: Backup, engine: Engine, *, log_only: bool) -> Restored:
    """Load the backup into the empty store at `engine`: the schema first, then every
    copied table and the replay of the projections in one transaction."""
    why = nonempty(engine)
    if why is not None:
        raise UsageError(f"the store is not empty ({why}): restore fills an empty store only; "
                         "nothing was written")
    migrate.upgrade(engine)
    loaded: dict[str, int] = {}
    tables = RECORD if log_only else RECORD + STATE
    with translated(engine), engine.connect().execution_options(**WRITE) as conn, conn.begin():
        serialize_appends(conn)
        if conn.execute(select(func.count()).select_from(events)).scalar_one():
            raise UsageError("the store was written to while the restore began; nothing was "
                             "written")
        for table in tables:
            loaded[table.name] = _load(conn, table, backup.rows(table))
            expected = backup.manifest["tables"][table.name]["rows"]
            if loaded[table.name] != expected:  # pragma: no cover - checked on opening
                raise Damaged(f"{backup.path}: {table.name} gave {loaded[table.name]} rows, "
                              f"not {expected}")
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, tables)
        replayed = projections.replay(conn)
    return Restored(loaded, replayed)


def _load(conn: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    count, batch = 0, []
    statement = insert(table)
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            conn.execute(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(statement, batch)
        count += len(batch)
    return count


def _advance_sequences(conn: Connection, tables: tuple[Table, ...]) -> None:
    """PostgreSQL's sequences do not move for rows inserted with their ids: set each to
    the largest id loaded, so the next append takes the next one."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
            f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"),
            {"table": table.name, "column": column.name})
