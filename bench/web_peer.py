"""The peer: changedetection.io's watch list at the web bench's size, timed as the web
bench times monitor's board, where it can run.

changedetection.io (Apache-2.0) is installed from PyPI into its own virtualenv under
bench/.work (never into the project's, never committed). Its datastore is made by its
own code from the web bench's store: one watch per source, one snapshot per version
(bench/web_peer_store.py). Every watch is paused, so its scheduler checks nothing
while it is timed, and both the datastore build and the server run in a network
namespace with loopback only (`unshare -n`): changedetection.io also phones home for
a version check, and nothing of it may reach past this machine. Where that cannot be
done, the result says why, in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.web_timing import Timed
from monitor.store.database import open_engine
from monitor.store.schema import sources, versions
from monitor.store.snapshots import get_text

VERSION = "0.60.10"
HERE = Path(__file__).resolve().parent
PORT = "5099"  # inside its own network namespace: nothing else listens there
ENV = {"DISABLE_VERSION_CHECK": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
       "LOGGER_LEVEL": "WARNING", "PYTHONPATH": str(HERE.parent)}


@dataclass
class PeerResult:
    timed: Timed | None
    reason: str  # why it did not run, or what was run
    load: float = 0.0  # 1-minute load average when it was timed

    def line(self) -> str:
        if self.timed is None or not self.timed.measured:
            return f"changedetection.io {VERSION}: not measured: {self.reason}"
        return (f"changedetection.io {VERSION}, its watch list (first page) at "
                f"{self.reason}: median {self.timed.median_ms:.1f} ms, p95 "
                f"{self.timed.p95_ms:.1f} ms over loopback, timed as monitor's pages")


def run(sqlite: Path, work: Path, requests_count: int,
        log: Callable[[str], None]) -> PeerResult:
    problem = _isolation_problem()
    if problem:
        return PeerResult(None, f"it cannot be cut off from the network here ({problem}), "
                          "and it would try to fetch its watches and check for updates")
    try:
        python = _venv(work / "changedetection-venv", log)
    except RuntimeError as exc:
        return PeerResult(None, f"it could not be installed: {exc}")
    datastore = work / f"changedetection-{VERSION}-{sqlite.stem}"  # made from that store
    try:
        made = _datastore(python, datastore, sqlite, log)
    except RuntimeError as exc:
        return PeerResult(None, f"its datastore could not be made: {exc}")
    done = _isolated([str(python), str(HERE / "web_peer_run.py"), str(datastore), PORT,
                      str(requests_count)], None, timeout=3600)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return PeerResult(None, f"its run printed no result ({done.returncode}): "
                          f"{_tail(done.stderr)}")
    if "error" in answer:
        return PeerResult(None, f"its server did not serve the list: {answer['error']}")
    timed = Timed(**answer["timed"])
    log(f"web: changedetection.io started in {answer['startup_seconds']:.0f} s; watch list "
        f"median {timed.median_ms} ms")
    return PeerResult(timed, f"{made['watches']:,} watches ({made['snapshots']:,} snapshots, "
                      f"every watch paused; its server took {answer['startup_seconds']:.0f} s "
                      "to answer after starting)", os.getloadavg()[0])


def _isolation_problem() -> str | None:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "no unshare or ip command"
    done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"unshare -n: {_tail(done.stderr)}"


def _isolated(argv: list[str], stdin: Any, timeout: float) -> subprocess.CompletedProcess[str]:
    """argv in a new network namespace whose only interface is loopback."""
    script = 'ip link set lo up && exec "$@"'
    return subprocess.run(["unshare", "-n", "sh", "-c", script, "sh", *argv], stdin=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **ENV}, cwd=HERE.parent)


def _venv(venv: Path, log: Callable[[str], None]) -> Path:
    python = venv / "bin" / "python"
    if (venv / "bin" / "changedetection.io").exists():
        return python
    log(f"web: installing changedetection.io {VERSION} into {venv} (from PyPI, a few minutes)")
    if venv.is_symlink():  # a link to an install that is gone
        venv.unlink()
    shutil.rmtree(venv, ignore_errors=True)  # an install stopped half-way
    for argv in ([sys.executable, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  f"changedetection.io=={VERSION}"]):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(f"{' '.join(argv[-2:])}: {_tail(done.stderr)}")
    return python


def _datastore(python: Path, folder: Path, sqlite: Path,
               log: Callable[[str], None]) -> dict[str, int]:
    done_file = folder / "bench-made.json"
    if done_file.exists():
        made: dict[str, int] = json.loads(done_file.read_text())
        return made
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    feed = folder.with_name(folder.name + ".jsonl")
    with feed.open("w", encoding="utf-8") as out:
        for watch in watches(sqlite):
            out.write(json.dumps(watch, ensure_ascii=False) + "\n")
    try:
        with feed.open("r", encoding="utf-8") as stdin:
            done = _isolated([str(python), str(HERE / "web_peer_store.py"), str(folder),
                              VERSION], stdin, timeout=7200)
    finally:
        feed.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {_tail(done.stderr)}")
    made = json.loads(done.stdout.strip().splitlines()[-1])
    done_file.write_text(json.dumps(made))
    log(f"web: changedetection.io datastore of {made['watches']} watches, "
        f"{made['snapshots']} snapshots made in {time.monotonic() - started:.0f} s")
    return made


def watches(sqlite: Path) -> Iterator[dict[str, Any]]:
    """One watch per source that is not removed, with every version's text."""
    engine = open_engine(f"sqlite:///{sqlite}", read_only=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(sources).where(sources.c.state != "removed")
                                .order_by(sources.c.name)).all()
            for row in rows:
                kept = conn.execute(select(versions.c.captured_at, versions.c.content_hash)
                                    .where(versions.c.stream_id == row.stream_id)
                                    .order_by(versions.c.document_version)).all()
                moments = [_epoch(v.captured_at) for v in kept]
                yield {
                    "url": row.url, "title": row.title or row.name,
                    "tag": ",".join((row.options or {}).get("tags", [])),
                    "created": _epoch(row.registered_at),
                    "versions": [[m, get_text(conn, v.content_hash)]
                                 for m, v in zip(moments, kept, strict=True)],
                    "last_checked": max(moments, default=_epoch(row.registered_at)),
                    "last_viewed": moments[-1] if moments else 0,
                    "error": row.last_failure if row.state == "failing" else None,
                }
    finally:
        engine.dispose()


def _epoch(moment: datetime) -> int:
    """Seconds since 1970 of a naive UTC moment (as the store keeps them)."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def _tail(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"
