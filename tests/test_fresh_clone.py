"""The README's first commands, on a fresh clone, as a newcomer runs them."""

from __future__ import annotations

import json
import os
import re
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
    # The daemon serves its web app; on a free port here, so a developer's own
    # `make run` on 8080 does not get in the way.
    env["MONITOR_WEB_LISTEN"] = "127.0.0.1:0"
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
            output = log_path.read_text()
            assert re.search(r"^web app: http://127\.0\.0\.1:\d+/$", output, re.M), output
            link = re.search(r"no users yet: open (http://\S+/setup/\S+) ", output)
            assert link, output
            _first_admin_opens_the_board(link.group(1))
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


def _first_admin_opens_the_board(link: str) -> None:
    """The link `make run` printed, in Debian's chromium: the first admin, then the board
    with the shipped baseline's source on it."""
    from browser import chromium_path, screenshot
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(link)
            page.fill("input[name=name]", "newcomer")
            page.fill("input[name=password]", "a long enough password")
            page.fill("input[name=again]", "a long enough password")
            page.click("button[type=submit]")
            page.wait_for_url(link.split("/setup/")[0] + "/")
            assert "newcomer" in page.inner_text("header")
            assert page.locator("table tbody tr").count() >= 1
            screenshot(page, "make-run-board")
        finally:
            browser.close()
