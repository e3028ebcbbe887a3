"""`monitor show NAME@V --raw`: the fetched bytes a version was read from, as kept.

The raw capture is evidence, so it leaves byte for byte: to a file (`--output`), or
to standard output when that is a pipe or a file. A terminal is different: the
bytes are the page's, and a page may hold escape sequences a terminal would obey,
or be a PDF. Text is shown there with its control characters made visible (as
`show` shows a text); anything that is not UTF-8 text is refused with a hint.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from monitor.cli.context import echo_json
from monitor.errors import UsageError
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.snapshots import get_blob
from monitor.untrusted import printable


def raw_capture(engine: Engine, source: SourceRow, version: VersionRow) -> bytes:
    """The version's raw bytes; a UsageError when none were kept."""
    where = f"{source.name}@{version.document_version}"
    if not version.raw_hash:
        why = ("it was imported as a baseline from its text"
               if version.origin == "baseline" else "raw captures were not kept then "
               "(`keep_raw` in monitor.toml)")
        raise UsageError(f"{where} has no raw capture: {why}; `monitor show {where}` "
                         "prints its text")
    with engine.connect() as conn:
        return get_blob(conn, version.raw_hash)


def emit_raw(content: bytes, source: SourceRow, version: VersionRow, fmt: str,
             output: Path | None) -> None:
    where = f"{source.name}@{version.document_version}"
    if fmt == "json":
        echo_json({"source": source.name, "version": version.document_version,
                   "raw_hash": version.raw_hash, "size": len(content),
                   "captured_at": version.captured_at, "url": version.url,
                   "content_base64": base64.b64encode(content).decode("ascii")})
        return
    if output is not None:
        write_file(output, content)
        return
    if not sys.stdout.isatty():
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # a text-only stdout (embedded use): the bytes as Latin-1 would lie
            raise UsageError(f"{where}: standard output takes no bytes; use --output FILE")
        stream.write(content)
        stream.flush()
        return
    text = _text(content)
    if text is None:
        raise UsageError(f"{where}: the raw capture is binary ({len(content)} bytes) and "
                         "standard output is a terminal: use --output FILE, or pipe it")
    click.echo(printable(text), nl=not text.endswith("\n"))


def _text(content: bytes) -> str | None:
    if b"\x00" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def write_file(output: Path, content: bytes) -> None:
    """`content` to `output` whole or not at all (a partial file, then renamed)."""
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_bytes(content)
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
