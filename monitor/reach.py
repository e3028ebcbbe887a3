"""How a newcomer reaches `monitor` from another shell: under `make run` and `make
demo` it lives in the project's `.venv/bin`, which is not on PATH until the venv is
activated. The hints `monitor run` and `monitor demo` print start with this."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path


def reach_prefix() -> str:
    """'' when this `monitor` is the one on PATH; else what to run first, ending in
    ' && ': `. .venv/bin/activate` (relative to here when it can be), or a PATH."""
    here = Path(sys.prefix) / "bin" / "monitor"
    found = shutil.which("monitor")
    if found is not None and Path(found).resolve() == here.resolve():
        return ""
    activate = Path(sys.prefix) / "bin" / "activate"
    if sys.prefix != sys.base_prefix and activate.exists():
        try:
            shown = str(activate.relative_to(Path.cwd()))
        except ValueError:
            shown = str(activate)
        return f". {shlex.quote(shown)} && "
    return f"PATH={shlex.quote(str(here.parent))}:$PATH && "
