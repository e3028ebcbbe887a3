"""The README's first commands, on a fresh clone, as a newcomer runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow


def test_make_run_on_a_fresh_clone_initializes_the_baseline_and_starts_the_daemon(
    tmp_path: Path,
) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MONITOR_", "VIRTUAL_ENV", "PYTHONPATH"))}
    log_path = tmp_path / "make-run.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while "daemon started" not in log_path.read_text():
                assert proc.poll() is None, log_path.read_text()[-2000:]
                assert time.monotonic() < deadline, "make run did not start the daemon"
                time.sleep(0.5)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    output = log_path.read_text()
    assert "baseline imported as version 1" in output
    assert "daemon stopped" in output

    monitor = clone / ".venv" / "bin" / "monitor"
    events = subprocess.run([str(monitor), "events", "--json"], cwd=clone, env=env,
                            capture_output=True, text=True, check=True)
    types = [json.loads(line)["type"] for line in events.stdout.splitlines()]
    assert types[:2] == ["SourceRegistered", "BaselineImported"]
    assert (clone / "var" / "monitor.db").exists()
    verify = subprocess.run([str(monitor), "verify"], cwd=clone, env=env,
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "log intact" in verify.stdout
