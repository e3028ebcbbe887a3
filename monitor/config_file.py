"""Changing `monitor.toml` in place: one `[[array]]` table appended or taken out, and
every other byte of the file as it was (its comments, order and blank lines).

tomlkit renders the new table (quoting, escapes, lists), but the file is not
round-tripped through tomlkit: it moves an `[[alerts]]` table that follows another
table up to the first `[[alerts]]` (measured with tomlkit 0.15). The change is made
on the text instead, and then proved: the result parsed by tomllib must equal the
file before it with exactly that table added or removed, or nothing is written.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomlkit

from monitor.errors import ConfigError, MonitorError

# A table header line: [name] or [[name]], the name bare, dotted or quoted.
_HEADER = re.compile(r"""^[ \t]*\[\[?[ \t]*([A-Za-z0-9_.'" -]+?)[ \t]*\]\]?[ \t]*(#.*)?$""")


def parsed(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def table_text(array: str, table: dict[str, Any]) -> str:
    """`table` as one `[[array]]` table, keys in the given order."""
    return tomlkit.dumps({array: [table]})


def append_table(text: str, path: Path, array: str, table: dict[str, Any]) -> str:
    """`text` with `table` added as the last `[[array]]` table, at the end of the
    file after one blank line."""
    before = parsed(text, path)
    newline = "\r\n" if "\r\n" in text else "\n"  # the file's own line ends
    head = text if not text or text.endswith("\n") else text + newline
    if head.strip() and not head.endswith(newline * 2):
        head += newline
    result = head + table_text(array, table).replace("\n", newline)
    expected = copy.deepcopy(before)
    expected.setdefault(array, []).append(table)
    _prove(result, path, expected)
    return result


def remove_table(text: str, path: Path, array: str, index: int) -> str:
    """`text` without the `index`-th `[[array]]` table: its header, its keys and the
    comments between them, and the blank lines after it up to the next comment or
    table. Comments after its last key (often the next table's, or examples) stay."""
    before = parsed(text, path)
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line.rstrip("\r\n"))]
    own = [i for i in headers if _is_array(lines[i], array)]
    if index >= len(own):
        raise ConfigError(f"{path}: cannot find [[{array}]] table {index + 1} to take out "
                          "(edit the file by hand)")
    start = own[index]
    end = next((i for i in headers if i > start), len(lines))
    last = max((i for i in range(start, end) if _content(lines[i])), default=start)
    stop = last + 1
    while stop < end and not lines[stop].strip():
        stop += 1
    if stop == len(lines):  # the file's last table: the blank lines before it go too
        while start > 0 and not lines[start - 1].strip():
            start -= 1
    result = "".join(lines[:start] + lines[stop:])
    expected = copy.deepcopy(before)
    del expected[array][index]
    if not expected[array]:
        del expected[array]
    _prove(result, path, expected)
    return result


def _is_array(line: str, array: str) -> bool:
    return re.match(rf"^[ \t]*\[\[[ \t]*{re.escape(array)}[ \t]*\]\]", line) is not None


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _prove(result: str, path: Path, expected: dict[str, Any]) -> None:
    try:
        found = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        found = None
    if found != expected:
        raise ConfigError(f"{path}: this change cannot be made without touching the rest of "
                          "the file (edit it by hand)")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[str]:
    """The file's text, read under an exclusive lock held until the block ends, so a
    second `monitor alerts add` waits and then edits the file the first one wrote.
    The lock is on the file itself: a writer that replaced it meanwhile is noticed
    (another inode at the path) and the lock is taken again on the new file."""
    real = path.resolve()  # a symlinked monitor.toml: its target is the file
    while True:
        try:
            handle = real.open("rb")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                same = os.stat(real).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                continue
            try:
                text = handle.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}: cannot read: {exc}") from None
            yield text
            return


def write_atomically(path: Path, text: str) -> None:
    """Replace the file's content at once: a temporary file in the same folder,
    flushed to disk, given the file's mode (and owner, where allowed), then renamed
    over it. A crash leaves the old file or the new one, never half of one."""
    shown, path = path, path.resolve()  # a symlink stays one: its target is replaced
    try:
        _replace(path, text)
    except OSError as exc:
        raise MonitorError(f"{shown}: cannot write: {exc.strerror or exc}") from None


def _replace(path: Path, text: str) -> None:
    old = os.stat(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, old.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):  # not ours to give: it becomes the writer's
            os.chown(temporary, old.st_uid, old.st_gid)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)
