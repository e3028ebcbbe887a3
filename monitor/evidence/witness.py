"""The witness file: one JSON line per checkpoint, appended and fsync'd, never rewritten.

It holds the same signed checkpoints as the log's `evidence/checkpoints` stream, in a
file the database does not control. Copy it somewhere else (another machine, a mail
archive, a notary) and the log cannot be rewritten up to its last line without
`verify` saying so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.store.mapper import canonical_json


@dataclass(frozen=True)
class WitnessLine:
    number: int  # 1-based
    record: dict[str, Any] | None  # None when the line is not a JSON object
    problem: str = ""


def append(path: Path, record: dict[str, Any]) -> None:
    """Add one line and wait until it is on disk."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(canonical_json(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
        if new:  # the file's name is on disk too
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot append to the witness file: "
                          f"{exc.strerror or exc}") from None


def read(path: Path) -> list[WitnessLine]:
    if path.exists() and not path.is_file():  # a device or a pipe: read without end
        raise ConfigError(f"{path}: not a regular file, so not a witness file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such witness file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the witness file: {exc}") from None
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested past any record
            lines.append(WitnessLine(number, None, "not a JSON line"))
            continue
        if not isinstance(record, dict):
            lines.append(WitnessLine(number, None, "not a JSON object"))
            continue
        lines.append(WitnessLine(number, record))
    return lines
