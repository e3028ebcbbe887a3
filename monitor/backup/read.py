"""Opening a backup: the whole file checked (members' sha256 and sizes, row counts, the
head of the log, the schema) before a restore writes anything; then its rows."""

from __future__ import annotations

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

from monitor.backup import (
    CHUNK,
    FORMAT,
    KEY_MEMBER,
    RECORD,
    STATE,
    STORE_MEMBER,
    WITNESS_MEMBER,
    decode,
    describe_copy,
    head_of,
    stored_columns,
    value_kinds,
)
from monitor.errors import UsageError
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
        """The table's rows as values to insert."""
        names = [c.name for c in table.columns]
        if self._copy is not None:
            with self._copy.connect() as conn:
                found = conn.execution_options(yield_per=1000).execute(
                    select(*stored_columns(table)).order_by(*table.primary_key.columns))
                for row in found:
                    yield dict(zip(names, row, strict=True))
            return
        kinds = value_kinds(table)
        for line in _lines(self._tar, self.manifest["tables"][table.name]["member"]):
            values = json.loads(line)
            yield {n: decode(v, k) for n, v, k in zip(names, values, kinds, strict=True)}


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
    backup = Backup(path, manifest, tar, stack)
    for member, info in manifest["files"].items():
        if member not in (KEY_MEMBER, WITNESS_MEMBER):
            raise Damaged(f"{path}: unknown file {member!r} in the manifest")
        body = _checked_member(path, tar, member, info)
        backup.files[member] = body
    if manifest["kind"] == "sqlite":
        backup._copy = _open_copy(path, tar, manifest, stack)
        with backup._copy.connect() as conn:
            found = describe_copy(conn)
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
    try:
        for line in _lines(tar, member):
            count += 1
            last = line
    except zstandard.ZstdError:
        raise Damaged(f"{path}: {member} does not decompress") from None
    if count != info["rows"]:
        raise Damaged(f"{path}: {member} holds {count} rows, the manifest says {info['rows']}")
    ends = head_of(json.loads(last)) if table is events and last is not None else None
    if table is events and ends != head:
        raise Damaged(f"{path}: the log's last event is not the manifest's head")


def _lines(tar: tarfile.TarFile, member: str) -> Iterator[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(_member(tar, member)) as raw:
        yield from io.BufferedReader(raw, buffer_size=CHUNK)  # type: ignore[arg-type]


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
