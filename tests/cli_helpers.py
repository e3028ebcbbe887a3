"""Running the real `monitor` command as a user would.

By default the command runs in this process (the same `main()` the console
script calls, with its own working directory, environment and captured
output): a fresh interpreter per call would cost a second each. Pass
`own_process=True` where the process boundary itself is under test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def child_environment() -> dict[str, str]:
    """This environment for a child process, without the user's MONITOR_ settings but
    with the opt-in to loopback that conftest sets for every test's servers, and the web
    app on a free port (a daemon of the tests never takes 8080)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("MONITOR_") or k in KEPT}


KEPT = frozenset({"MONITOR_ALLOW_PRIVATE_NETWORKS", "MONITOR_WEB_LISTEN",
                  "MONITOR_ARGON2_MEMORY_KIB"})


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    clean = child_environment()
    clean.update(env or {})
    return clean


def monitor(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 120, own_process: bool = False) -> Result:
    if own_process:
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", *args], cwd=cwd, env=_environment(env),
            capture_output=True, text=True, timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)
    from monitor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _inside(cwd, _environment(env)), redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


@contextmanager
def _inside(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    old_cwd, old_env = Path.cwd(), dict(os.environ)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
