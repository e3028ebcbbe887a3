"""Where a slow page's time goes: py-spy samples this process (the app runs in its
uvicorn thread here, sync routes in its worker threads) while the page is asked for
again and again; the client's own samples are dropped, the rest folded by library,
by project function (inclusive) and by frame (self), as bench/profile.py folds a pass.
cProfile would see one thread only, and the work of a page is spread over several."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.profile import RATE, Profile, ensure_py_spy, fold

SECONDS = 8
CLIENT_FRAME = "web_profile.py)"  # in every stack of the asking thread
# Frames on the stack of every request: they say nothing about a page.
EVERY_REQUEST = ("WebThread._run", "ServerTiming.__call__", "SecurityHeaders.__call__")
SHOWN = 8


def profile_page(session: requests.Session, url: str, out: Path,
                 log: Callable[[str], None]) -> list[str]:
    try:
        py_spy = ensure_py_spy(out.parent.parent / "py-spy-venv")
    except (OSError, RuntimeError) as exc:
        return [f"no profile: py-spy could not be installed ({exc})"]
    raw = out.with_suffix(".raw.txt")
    raw.unlink(missing_ok=True)
    spy = subprocess.Popen(
        [str(py_spy), "record", "--pid", str(os.getpid()), "--duration", str(SECONDS),
         "--rate", str(RATE), "--format", "raw", "--nolineno", "--output", str(raw)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    asked = 0
    started = time.monotonic()
    while spy.poll() is None and time.monotonic() - started < SECONDS * 3:
        _ = session.get(url, timeout=120).content
        asked += 1
    _, errors = spy.communicate(timeout=60)
    if spy.returncode != 0 or not raw.exists():
        return [f"no profile: py-spy failed ({spy.returncode}): {errors.strip()[-300:]}"]
    kept = [line for line in raw.read_text("utf-8", "replace").splitlines()
            if CLIENT_FRAME not in line]
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    profile = fold(out, top=15)
    log(f"web: profiled {url} ({asked} requests in {SECONDS} s)")
    return [f"{asked} requests in {SECONDS} s; {profile.samples} samples of the server's "
            f"threads ({RATE} per second; the asking thread's left out)", *short(profile)]


def short(profile: Profile) -> list[str]:
    def share(n: int) -> str:
        return f"{100 * n / max(1, profile.samples):5.1f}%"

    functions = [(name, n) for name, n in profile.by_project_function
                 if not name.startswith(EVERY_REQUEST)]
    return ["by project function (inclusive):",
            *(f"  {share(n)}  {name}" for name, n in functions[:SHOWN]),
            "by frame running (self):",
            *(f"  {share(n)}  {name}" for name, n in profile.by_self[:SHOWN]),
            "by library (frame running): " + ", ".join(
                f"{name} {100 * n / max(1, profile.samples):.0f}%"
                for name, n in profile.by_library[:SHOWN])]
