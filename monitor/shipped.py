"""What the package ships besides code: the schema migrations and the baseline captures.

Both are read with importlib.resources from `monitor/_alembic` and `monitor/_snapshots`,
so a wheel installed anywhere works; nothing is looked up in a source tree. In the
repository those two are symlinks to the top-level `alembic/` and `snapshots/` folders,
where developers edit the files and where `alembic.ini` points; building the wheel
copies the files themselves into the package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _shipped(*parts: str) -> Path:
    found = files("monitor").joinpath(*parts)
    # Alembic and the baseline reader open files by path. pip installs a wheel as plain
    # files, where resources are pathlib Paths; anything else (a zip import) becomes a
    # path that does not exist, and the caller reports the file as missing.
    return found if isinstance(found, Path) else Path(str(found))


def migrations() -> Path:
    """The Alembic script folder (env.py, versions/)."""
    return _shipped("_alembic")


def snapshot(name: str) -> Path:
    """A file of the shipped baseline captures."""
    return _shipped("_snapshots", name)
