"""Opening a backup: the whole file checked (members' sha256 and sizes, row counts, the
head of the log, the schema) before a restore writes anything; then its rows."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard
from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.backup import (
    CHUNK,
    FORMAT,
    KEY_MEMBER,
    LINE_MAX,
    MANIFEST_MAX,
    RECORD,
    STATE,
    STORE_MEMBER,
    WITNESS_MEMBER,
    check_row,
    decode,
    describe_copy,
    head_of,
    stored_columns,
    unpacked_cap,
    value_kinds,
)
from monitor.errors import MonitorError, PersistenceError, UsageError
from monitor.store import migrate
from monitor.store.database import open_engine
from monitor.store.schema import events
from monitor.untrusted import one_line


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

    def rows(self, table: Table) -> Iterator[dict[str, Any]]:
        """The table's rows as values to insert; a row this schema cannot hold (its
        values' number or types, bad base64, a moment that is not one, JSON that does not
        parse) is Damaged, naming the table and the row's place."""
        names = [c.name for c in table.columns]
        if self._copy is not None:
            yield from self._copied_rows(table, names)
            return
        kinds = value_kinds(table)
        info = self.manifest["tables"][table.name]
        for number, line in enumerate(_lines(self.path, self._tar, info), start=1):
            try:
                values = json.loads(line)
                if not isinstance(values, list) or len(values) != len(names):
                    raise ValueError(f"{len(values) if isinstance(values, list) else 'no'} "
                                     f"values for {len(names)} columns")
                row = {n: decode(v, k) for n, v, k in zip(names, values, kinds, strict=True)}
                check_row(table, row)
            except (ValueError, TypeError) as exc:
                raise self._bad_row(table, f"line {number}", exc) from None
            yield row

    def _copied_rows(self, table: Table, names: list[str]) -> Iterator[dict[str, Any]]:
        assert self._copy is not None
        done = 0  # the row being read is done + 1
        try:
            with self._copy.connect() as conn:
                found = conn.execution_options(yield_per=1000).execute(
                    select(*stored_columns(table)).order_by(*table.primary_key.columns))
                for values in found:
                    row = dict(zip(names, values, strict=True))
                    check_row(table, row)
                    yield row
                    done += 1
        except (ValueError, TypeError, SQLAlchemyError) as exc:
            raise self._bad_row(table, f"row {done + 1}", exc) from None

    def _bad_row(self, table: Table, where: str, exc: Exception) -> Damaged:
        detail = getattr(exc, "orig", None) or exc
        return Damaged(f"{self.path}: table {table.name}, {where}, is not a row this schema "
                       f"holds ({one_line(str(detail), 80)}): the backup was damaged or "
                       "altered; nothing was written")


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
        if first.size > MANIFEST_MAX:  # a few KB when a backup writes it
            raise Damaged(f"{path}: its manifest is {first.size:,} bytes, more than a "
                          f"backup's ever is ({MANIFEST_MAX:,}): not a govkz-monitor backup")
        handle = tar.extractfile(first)
        if handle is None:
            raise KeyError("manifest.json")
        manifest = json.loads(handle.read(MANIFEST_MAX + 1))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: a folder, not a backup file") from None
    except (tarfile.TarError, KeyError, ValueError, EOFError, OSError):
        raise Damaged(f"{path} is not a govkz-monitor backup (no readable manifest)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        said = manifest.get("format") if isinstance(manifest, dict) else None
        raise Damaged(f"{path} is not a govkz-monitor backup this program reads "
                      f"(format {one_line(str(said), 40)!r})")
    try:
        backup = _checked(path, tar, manifest, stack)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Damaged(f"{path}: the manifest is not one a backup writes ({type(exc).__name__}: "
                      f"{one_line(str(exc), 80)})") from None
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
    _check_fields(manifest)
    backup = Backup(path, manifest, tar, stack)
    for member, info in manifest["files"].items():
        if member not in (KEY_MEMBER, WITNESS_MEMBER):
            raise Damaged(f"{path}: unknown file {member!r} in the manifest")
        body = _checked_member(path, tar, member, info)
        backup.files[member] = body
    if manifest["kind"] == "sqlite":
        backup._copy = _open_copy(path, tar, manifest, stack)
        try:
            with backup._copy.connect() as conn:
                found = describe_copy(conn)
        except (SQLAlchemyError, PersistenceError) as exc:
            detail = one_line(str(getattr(exc, "orig", None) or exc), 80)
            raise Damaged(f"{path}: the SQLite copy in it cannot be read as a store "
                          f"({detail}): the backup was damaged or altered") from None
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
        raise Damaged(f"{path}: unknown kind {one_line(str(manifest['kind']), 20)!r}")
    return backup


def _check_fields(manifest: dict[str, Any]) -> None:
    """The manifest's numbers are numbers and its digests strings (else TypeError, which
    the caller names as a manifest no backup writes)."""
    logical = manifest["kind"] == "logical"
    member = ["size", "sha256"]
    infos = [(f"tables.{t.name}", manifest["tables"][t.name],
              ["rows", *([*member, "member"] if logical else [])]) for t in RECORD + STATE]
    infos += [(f"files.{n}", i, member) for n, i in manifest["files"].items()]
    if manifest["kind"] == "sqlite":
        infos.append(("store", manifest["store"], member))
    for where, info, keys in infos:
        for key in keys + [k for k in ("unpacked", "longest_line") if k in info]:
            value = info[key]
            if key in ("sha256", "member"):
                if not isinstance(value, str):
                    raise TypeError(f"{where}.{key} is not a string")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TypeError(f"{where}.{key} is not a whole number")


def _check_schema(path: Path, manifest: dict[str, Any]) -> None:
    revision, head = manifest["schema"], migrate.head_revision()
    if revision == head:
        return
    older = isinstance(revision, str) and revision.isdigit() and isinstance(head, str) \
        and head.isdigit() and int(revision) < int(head)
    if older:
        raise UsageError(
            f"{path} holds a store at schema {revision}, older than this program's {head}: "
            "restore it with the govkz-monitor version that made it; this version's "
            "`monitor init` then upgrades that store")
    raise UsageError(f"{path} holds a store at schema {one_line(str(revision), 20)!r}, which "
                     f"this program does not know (it knows up to {head}): restore it with a "
                     "newer govkz-monitor")


class _NotAFile(KeyError):
    pass


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    info = tar.getmember(name)
    if not info.isfile():
        raise _NotAFile(name)
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
    except _NotAFile:
        raise Damaged(f"{path}: {member} is not a plain file (a link or a device): the "
                      "backup was altered") from None
    except KeyError:
        raise Damaged(f"{path}: {member} is missing") from None
    except (tarfile.TarError, OSError, EOFError):
        raise Damaged(f"{path}: cut short before {member}") from None
    digest, size, kept = hashlib.sha256(), 0, io.BytesIO()
    write = sink or kept.write
    try:
        while chunk := handle.read(CHUNK):
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
    for line in _lines(path, tar, info):
        count += 1
        last = line
    if count != info["rows"]:
        raise Damaged(f"{path}: {member} holds {count} rows, the manifest says {info['rows']}")
    try:
        ends = head_of(json.loads(last)) if table is events and last is not None else None
    except (ValueError, TypeError, IndexError):
        raise Damaged(f"{path}: the log's last line is not an event") from None
    if table is events and ends != head:
        raise Damaged(f"{path}: the log's last event is not the manifest's head")


def _lines(path: Path, tar: tarfile.TarFile, info: dict[str, Any]) -> Iterator[bytes]:
    """The member's JSON lines, unpacked no further than the manifest says (or, in a backup
    made before it said, than `unpacked_cap`) and none longer than LINE_MAX: a member
    that would unpack to more (a zip bomb, a line with no end) is refused before its
    bytes are held."""
    member = info["member"]
    cap = unpacked_cap(info)
    longest = min(LINE_MAX, info.get("longest_line", LINE_MAX))
    total, pending = 0, bytearray()
    try:
        with zstandard.ZstdDecompressor().stream_reader(_member(tar, member)) as raw:
            while chunk := raw.read(CHUNK):
                total += len(chunk)
                if total > cap:
                    raise Damaged(f"{path}: {member} unpacks to more than the "
                                  f"{cap:,} bytes the manifest allows: refused")
                pending += chunk
                start = 0
                while (end := pending.find(b"\n", start)) >= 0:
                    if end + 1 - start > longest:
                        break
                    yield bytes(pending[start:end + 1])
                    start = end + 1
                del pending[:start]
                if len(pending) > longest:
                    raise Damaged(f"{path}: {member} has a line longer than "
                                  f"{longest:,} bytes (one row never is): refused")
    except zstandard.ZstdError:
        raise Damaged(f"{path}: {member} does not decompress") from None
    if pending:
        yield bytes(pending)
    if "unpacked" in info and total != info["unpacked"]:
        raise Damaged(f"{path}: {member} unpacks to {total:,} bytes, the manifest says "
                      f"{info['unpacked']:,}")


def _open_copy(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any],
               stack: ExitStack) -> Engine:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-restore-")))
    info = manifest["store"]
    packed, copy = folder / STORE_MEMBER, folder / "store.sqlite"
    try:
        with packed.open("wb") as sink:
            _checked_member(path, tar, STORE_MEMBER, info, sink=sink.write)
        _unpack_copy(path, packed, copy, info)
        packed.unlink()
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            needs = f" (it needs {info['unpacked'] / 2**20:,.0f} MB)" if "unpacked" in info else ""
            raise MonitorError(
                f"the temporary folder {folder.parent} is full: restore unpacks the backup's "
                f"SQLite copy there first{needs}; free space there or set TMPDIR to another "
                "folder (your store was not touched)") from None
        raise
    engine = open_engine(f"sqlite:///{copy}", read_only=True)
    stack.callback(engine.dispose)
    return engine


def _unpack_copy(path: Path, packed: Path, copy: Path, info: dict[str, Any]) -> None:
    """Unpack the SQLite copy, no further than the manifest says it is."""
    cap, total = unpacked_cap(info), 0
    try:
        with packed.open("rb") as raw, \
                zstandard.ZstdDecompressor().stream_reader(raw) as unpacked, \
                copy.open("wb") as out:
            while chunk := unpacked.read(CHUNK):
                total += len(chunk)
                if total > cap:
                    raise Damaged(f"{path}: {STORE_MEMBER} unpacks to more than the "
                                  f"{cap:,} bytes the manifest allows: refused")
                out.write(chunk)
    except zstandard.ZstdError:
        raise Damaged(f"{path}: {STORE_MEMBER} does not decompress") from None
    if "unpacked" in info and total != info["unpacked"]:
        raise Damaged(f"{path}: {STORE_MEMBER} unpacks to {total:,} bytes, the manifest "
                      f"says {info['unpacked']:,}")
