"""Measuring a command: wall time, CPU time and peak memory of the child process, and
the size on disk of the stores it keeps.

CPU comes from wait4(2) on the child, so it is that process's own user + system time
(threads included) and nothing of the bench's process, where the page server runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One finished command."""

    argv: tuple[str, ...]
    returncode: int
    wall: float  # seconds, from spawn to exit
    cpu: float  # user + system seconds of the child
    max_rss_kb: int
    stdout: str
    stderr: str

    def check(self) -> Run:
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.argv)} exited {self.returncode}:\n"
                               f"{self.stderr[-2000:]}")
        return self


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run a command to its end and measure it. Output goes to files, not pipes, so a
    chatty child never blocks and the bench never competes with it for CPU."""
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env else None,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(tuple(argv), proc.returncode, wall, usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss, out_path.read_text("utf-8", "replace"),
               err_path.read_text("utf-8", "replace"))


def sqlite_bytes(path: Path) -> int:
    """Bytes a SQLite database holds on disk, after folding its WAL into the main file."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(
        p.stat().st_size
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
        if p.exists()
    )


def sqlite_tables(path: Path) -> dict[str, int]:
    """Bytes per table or index (whole pages), from SQLite's dbstat; {} if unavailable."""
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.DatabaseError:  # SQLite built without dbstat
            return {}
    return {name: int(size) for name, size in rows}


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
