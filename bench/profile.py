"""Where a pass spends its time: py-spy samples one `monitor check --all` command.

py-spy samples every thread of the real command and of its worker processes
(`--subprocesses`; cProfile would see only the main thread, which waits for the
workers). It is installed into its own virtualenv under bench/.work. Only the thread
holding the GIL is sampled (`--gil`): the checks of one process run as its threads,
so Python time under the GIL is what bounds each process. The samples of all the
processes are added up, so "seconds holding the GIL" can exceed the wall time. Native
code that releases the GIL (most of lxml's parsing, SQLite, socket waits) is not in
the samples; compare the sampled seconds with the pass's CPU time to see how much.
Samples are folded three ways: by the frame running (self time), by the project
function on the stack (inclusive time), and by the library that was running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.urlwatch_run import quiet_run

PY_SPY = "py-spy"
RATE = 200  # samples per second


@dataclass(frozen=True)
class Profile:
    samples: int
    seconds: float
    by_self: list[tuple[str, int]]
    by_project_function: list[tuple[str, int]]
    by_library: list[tuple[str, int]]
    raw_path: Path


def ensure_py_spy(venv: Path) -> Path:
    exe = venv / "bin" / "py-spy"
    if exe.exists():
        return exe
    print(f"bench: installing py-spy into {venv} ...", flush=True)
    quiet_run([sys.executable, "-m", "venv", str(venv)])
    quiet_run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
               "--disable-pip-version-check", PY_SPY])
    return exe


def profile_command(py_spy: Path, argv: list[str], cwd: Path, out: Path,
                    top: int = 12, *, gil: bool = True) -> Profile:
    """Run `argv` under py-spy and fold the samples (`gil`: only threads holding
    the GIL are sampled)."""
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [str(py_spy), "record", *(["--gil"] if gil else []), "--subprocesses", "--nolineno",
         "--format", "raw",
         "--rate", str(RATE),
         "--output", str(out), "--", *argv],
        cwd=cwd, capture_output=True, text=True,
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    child_output = "\n".join(ln for ln in done.stdout.splitlines() if not ln.startswith("py-spy>"))
    try:
        outcomes = {r["outcome"] for r in json.loads(child_output)["results"]}
    except (ValueError, KeyError, TypeError):
        said = done.stderr.strip()[-500:] or child_output.strip()[:300] or "no output"
        raise RuntimeError(f"the profiled pass failed: {said}") from None
    if not outcomes <= {"unchanged", "changed", "captured"}:
        raise RuntimeError(f"the profiled pass had outcomes {sorted(outcomes)}")
    return fold(out, top)


def fold(raw: Path, top: int = 12) -> Profile:
    by_self: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    by_library: Counter[str] = Counter()
    total = 0
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf = frames[-1]
        by_self[leaf] += count
        by_library[_library(leaf)] += count
        for frame in dict.fromkeys(f for f in frames if _file(f).startswith("monitor/")):
            if not frame.startswith("<module>"):
                by_function[frame] += count
    return Profile(total, total / RATE, by_self.most_common(top),
                   by_function.most_common(top), by_library.most_common(top), raw)


def _file(frame: str) -> str:
    return frame.rpartition(" (")[2].rstrip(")")


def _library(frame: str) -> str:
    """The package a frame belongs to: `trafilatura`, `monitor/check.py`, `stdlib`..."""
    path = _file(frame)
    if path.startswith("<frozen importlib"):
        return "imports (startup)"
    if path.startswith("monitor/"):
        return path
    head = path.split("/", 1)[0]
    if "/" not in path or head in _STDLIB:
        return f"stdlib ({head.removesuffix('.py')})"
    return head


_STDLIB = frozenset(sys.stdlib_module_names)
