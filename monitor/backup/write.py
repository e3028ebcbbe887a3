"""Writing a backup: the logical export read in one snapshot, or SQLite's online backup
of the file; then the tar with its manifest (monitor/backup/__init__.py)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import zstandard
from sqlalchemy import Connection, Engine, Table, select, text

from monitor.backup import (
    FORMAT,
    KEY_MEMBER,
    RECORD,
    STATE,
    STORE_MEMBER,
    WITNESS_MEMBER,
    describe_copy,
    encode,
    head_of,
    member_info,
    refuse_unclassified,
    stored_columns,
    value_kinds,
)
from monitor.errors import PersistenceError, UsageError
from monitor.store.database import open_engine
from monitor.store.faults import translated
from monitor.store.schema import events


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
                files[member] = member_info(target)
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
            refuse_unclassified(conn)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            head = None
            for table in RECORD + STATE:
                member = f"tables/{table.name}.jsonl.zst"
                rows, last = _dump(conn, table, folder / member)
                tables[table.name] = {"member": member, "rows": rows,
                                      "columns": [c.name for c in table.columns],
                                      **member_info(folder / member)}
                if table is events and last is not None:
                    head = head_of(last)
    return {"schema": revision, "tables": tables, "head": head}




def _dump(conn: Connection, table: Table, path: Path) -> tuple[int, list[Any] | None]:
    kinds = value_kinds(table)
    count, last = 0, None
    order = list(table.primary_key.columns)
    rows = conn.execution_options(yield_per=1000).execute(
        select(*stored_columns(table)).order_by(*order))
    with path.open("wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for row in rows:
            last = [encode(v, k) for v, k in zip(row, kinds, strict=True)]
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
            refuse_unclassified(conn)
            manifest = describe_copy(conn)
    finally:
        probe.dispose()
    with copy.open("rb") as raw, (folder / STORE_MEMBER).open("wb") as out:
        zstandard.ZstdCompressor(level=3).copy_stream(raw, out)
    copy.unlink()
    manifest["store"] = {"member": STORE_MEMBER, **member_info(folder / STORE_MEMBER)}
    return manifest


def _sqlite_path(engine: Engine) -> str:
    database = str(engine.url.database)
    if database.startswith("file:"):  # a read-only engine's URI form
        return unquote(database[len("file:"):])
    return str(Path(database).expanduser().resolve())
