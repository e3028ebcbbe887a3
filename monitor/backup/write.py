"""Writing a backup: the logical export read in one snapshot, or SQLite's online backup
of the file; then the tar with its manifest (monitor/backup/__init__.py)."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import zstandard
from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.exc import DBAPIError

from monitor.backup import (
    FORMAT,
    KEY_MEMBER,
    LINE_MAX,
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
from monitor.untrusted import one_line


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
    _remove_stale(output.parent)
    with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=output.parent) as work:
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
        _publish(partial, output)
    return Written(output, manifest)


# The work folder beside the output (the same file system: the finished file is linked
# into place). One left by a killed backup is removed by the next backup into that folder
# once it is a day old (no backup takes that long; a younger one may be running).
WORK_PREFIX = ".monitor-backup-"
STALE_AFTER = 24 * 3600.0


def _remove_stale(parent: Path) -> None:
    now = time.time()
    for found in parent.glob(WORK_PREFIX + "*"):
        try:
            if found.is_dir() and not found.is_symlink() and \
                    now - found.stat().st_mtime > STALE_AFTER:
                shutil.rmtree(found)
        except OSError:
            continue  # another backup removed it, or it is not ours to remove


def _publish(partial: Path, output: Path) -> None:
    """Put the finished file at `output`, never over a file there: a link fails if the
    name exists (two backups to one name: the second is refused, not silently lost)."""
    try:
        os.link(partial, output)
    except FileExistsError:
        raise UsageError(f"{output} exists (written meanwhile by someone else): a backup "
                         "never replaces a file (choose another)") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A file system without hard links: claim the name first (O_EXCL), then fill it.
        try:
            os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise UsageError(f"{output} exists (written meanwhile by someone else): a "
                             "backup never replaces a file (choose another)") from None
        os.replace(partial, output)
    else:
        partial.unlink()


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
                dumped = _dump(conn, table, folder / member)
                last = dumped.last
                tables[table.name] = {"member": member, "rows": dumped.rows,
                                      "columns": [c.name for c in table.columns],
                                      "unpacked": dumped.unpacked,
                                      "longest_line": dumped.longest_line,
                                      **member_info(folder / member)}
                if table is events and last is not None:
                    head = head_of(last)
    return {"schema": revision, "tables": tables, "head": head}




@dataclass
class _Dumped:
    rows: int = 0
    unpacked: int = 0  # bytes of JSON lines before compression
    longest_line: int = 0
    last: list[Any] | None = None


def _dump(conn: Connection, table: Table, path: Path) -> _Dumped:
    kinds = value_kinds(table)
    dumped = _Dumped()
    order = list(table.primary_key.columns)
    rows = conn.execution_options(yield_per=1000).execute(
        select(*stored_columns(table)).order_by(*order))
    with path.open("wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for row in rows:
            values = [encode(v, k) for v, k in zip(row, kinds, strict=True)]
            line = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            if len(line) > LINE_MAX:  # a restore would refuse it: say so now
                key = [row._mapping[c.name] for c in order]
                raise UsageError(
                    f"table {table.name}'s row {one_line(str(key), 80)} is "
                    f"{len(line) / 2**20:.0f} MB as a line, more than a logical backup "
                    f"holds ({LINE_MAX >> 20} MB; a fetch.max_bytes above about 47 MB "
                    "makes such rows): on SQLite, use --kind sqlite; nothing was written")
            out.write(line)
            dumped.rows += 1
            dumped.unpacked += len(line)
            dumped.longest_line = max(dumped.longest_line, len(line))
            dumped.last = values
    return dumped


def _sqlite_members(engine: Engine, folder: Path) -> dict[str, Any]:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        raise UsageError("--kind sqlite copies a SQLite store's file; for PostgreSQL use "
                         "--kind logical")
    database = _sqlite_path(engine)
    copy = folder / "store.sqlite"
    try:
        # The engine's read-only connection: on a write-protected store with no -wal file
        # it reads the file alone (`immutable`), so a store on a read-only mount is copied.
        source = engine.raw_connection()
        target = sqlite3.connect(copy)
        try:
            source.driver_connection.backup(target)  # type: ignore[union-attr]
            target.execute("PRAGMA journal_mode=DELETE")  # the copy is one file
        finally:
            source.close()
            target.close()
    except (sqlite3.Error, DBAPIError) as exc:
        detail = one_line(str(getattr(exc, "orig", None) or exc), 120)
        if not os.access(Path(database).parent, os.W_OK):
            raise PersistenceError(
                f"cannot copy {database}: {detail} (its folder is read-only, and SQLite "
                "needs to write beside a store that has a -wal file): `--kind logical` "
                "reads it there") from None
        raise PersistenceError(f"cannot copy {database}: {detail}") from None
    probe = open_engine(f"sqlite:///{copy}", read_only=True)
    try:
        with probe.connect() as conn:
            refuse_unclassified(conn)
            manifest = describe_copy(conn)
    finally:
        probe.dispose()
    with copy.open("rb") as raw, (folder / STORE_MEMBER).open("wb") as out:
        zstandard.ZstdCompressor(level=3).copy_stream(raw, out)
    unpacked = copy.stat().st_size
    copy.unlink()
    manifest["store"] = {"member": STORE_MEMBER, "unpacked": unpacked,
                         **member_info(folder / STORE_MEMBER)}
    return manifest


def _sqlite_path(engine: Engine) -> str:
    database = str(engine.url.database)
    if database.startswith("file:"):  # a read-only engine's URI form
        return unquote(database[len("file:"):])
    return str(Path(database).expanduser().resolve())
