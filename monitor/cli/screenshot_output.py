"""`monitor show NAME@V --screenshot FILE`: the PNG a browser showed of the version.

Like a raw capture it is evidence and leaves byte for byte, to FILE, or with `-` to
standard output when that is a pipe or a file; never to a terminal, which would
take the image's bytes for text and control sequences.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import Engine

from monitor.cli.context import echo_json
from monitor.cli.raw_output import write_file
from monitor.errors import UsageError
from monitor.screenshots import numbers, version_ref, versions_with_screenshots
from monitor.store.rows import SourceRow, VersionRow
from monitor.store.snapshots import get_blob


def emit_screenshot(engine: Engine, source: SourceRow, version: VersionRow, output: Path,
                    fmt: str) -> None:
    where = f"{source.name}@{version.document_version}"
    to_stdout = str(output) == "-"
    if to_stdout and sys.stdout.isatty():
        raise UsageError(f"{where}: a screenshot is a PNG image and standard output is a "
                         "terminal: give a file name, or pipe it")
    with engine.connect() as conn:  # the PNG alone: a layout that fails to read is verify's
        shot = version_ref(conn, source.stream_id, version.document_version)
        png = get_blob(conn, shot.sha256) if shot is not None else b""
    if shot is None:
        having = versions_with_screenshots(engine, source.stream_id)
        which = (f"versions with one: {numbers(having)}" if having
                 else "no version of it has one (`screenshot = true` or `render = true` "
                      "on the source takes them)")
        raise UsageError(f"{where} has no screenshot; {which}")
    if not to_stdout:
        write_file(output, png)
    else:
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:
            raise UsageError(f"{where}: standard output takes no bytes; give a file name")
        sys.stdout.flush()
        stream.write(png)
        stream.flush()
    if fmt == "json" and not to_stdout:
        echo_json({"source": source.name, "version": version.document_version,
                   "sha256": shot.sha256, "media_type": "image/png", "size": len(png),
                   "width": shot.width, "height": shot.height, "file": str(output)})
