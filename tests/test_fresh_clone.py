"""The README's first commands, on a fresh clone, as a newcomer runs them: `make run`,
then the "Watch your own page" quick start, word for word, in a new shell."""

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
from http_faults import FaultServer, Reply

pytestmark = pytest.mark.slow

# The README's quick start: the fenced block after this comment, run as it stands.
QUICK_START = re.compile(r"<!-- quick-start:[^>]*-->\n```sh\n(.*?)```", re.S)
# The page it adds, served here by a forward proxy (the fetcher honours HTTP_PROXY);
# written for this test, not a copy of the real one.
STAND_IN = """<!DOCTYPE html>
<html><head><title>The first web project (a stand-in)</title></head>
<body><h1>The first web project</h1>
<p>This page stands in for the one the README's quick start watches. The test serves
it from a proxy on the loopback interface, so the quick start runs without a network.</p>
<p>It has a heading, two paragraphs and a list of links, which is all a first check
needs to record a version and to learn which parts of the page move on their own.</p>
<ul><li><a href="/people">People</a></li><li><a href="/history">History</a></li></ul>
</body></html>"""


def test_make_run_then_the_quick_start_on_a_fresh_clone(tmp_path: Path) -> None:
    """`make run` initializes the baseline, says what it watches and what to try next,
    and starts the daemon; the README's quick start then runs word for word in a new
    shell beside it (env -i, a bare PATH): it adds a page, checks it and reports."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    found = QUICK_START.search((REPO / "README.md").read_text("utf-8"))
    assert found, "README.md has no <!-- quick-start: … --> block"
    block = found.group(1)
    added = re.search(r"^monitor add (http://\S+)$", block, re.M)
    assert added, block
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    with FaultServer() as proxy:
        proxy.route(added.group(1), Reply.page(STAND_IN))
        # What both shells share: the proxy (https is refused: CONNECT is not served, so
        # the shipped gov.kz source fails at once), and the opt-in to reach it and
        # the names it stands for (they do not resolve here); the web app on a free
        # port, so a developer's own `make run` on 8080 does not get in the way.
        shared = {"HTTP_PROXY": proxy.url(""), "HTTPS_PROXY": proxy.url(""),
                  "MONITOR_ALLOW_PRIVATE_NETWORKS": "1", "MONITOR_WEB_LISTEN": "127.0.0.1:0"}
        plain = {k: v for k, v in os.environ.items()
                 if not k.startswith(("MONITOR_", "VIRTUAL_ENV", "PYTHONPATH"))
                 and not k.lower().endswith("_proxy")}
        env = plain | shared
        log_path = tmp_path / "make-run.log"
        with open(log_path, "w") as log:
            # `make run`'s install and init first, as it does them, but without the
            # proxy: pip's index is reached over https, which the proxy refuses.
            subprocess.run(["make", "init"], cwd=clone, env=plain, stdout=log,
                           stderr=subprocess.STDOUT, check=True, timeout=600)
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
                assert re.search(r"^watching 1 source:\n  mfa-2025-12-11-human-rights-"
                                 r"penitentiary-en  every 1h  https://www\.gov\.kz/", output,
                                 re.M), output
                assert (f"try next, in another terminal in {clone} " in output
                        and "  . .venv/bin/activate && monitor add URL && monitor check "
                            "--all && monitor report\n" in output), output
                link = re.search(r"no users yet: open (http://\S+/setup/\S+) ", output)
                assert link, output
                _the_quick_start_works(clone, block, shared, tmp_path)
                assert proxy.hits(added.group(1))  # the page was read through the proxy
                _first_admin_opens_the_board(link.group(1))
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
    output = log_path.read_text()
    assert "baseline imported as version 1" in output
    assert "daemon stopped" in output
    assert re.search(r"source=mfa-2025-12-11-human-rights-penitentiary-en failed: next try "
                     r"in (59 min|1 h), at ", output), output

    monitor = clone / ".venv" / "bin" / "monitor"
    events = subprocess.run([str(monitor), "events", "--json"], cwd=clone, env=env,
                            capture_output=True, text=True, check=True)
    types = [json.loads(line)["type"] for line in events.stdout.splitlines()]
    assert types[:2] == ["SourceRegistered", "BaselineImported"]
    assert (clone / "var" / "monitor.db").exists()
    verify = subprocess.run([str(monitor), "verify"], cwd=clone, env=env,
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "log intact" in verify.stdout


def _the_quick_start_works(clone: Path, block: str, shared: dict[str, str],
                           tmp_path: Path) -> None:
    """The block as it stands, in a new shell that has nothing of this one: `monitor`
    must be reached as the block says, or `bash -e` stops at `command not found`."""
    home = tmp_path / "home"
    home.mkdir()
    ran = subprocess.run(["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin",
                          *(f"{k}={v}" for k, v in shared.items()), "bash", "-e", "-c", block],
                         cwd=clone, capture_output=True, text=True, timeout=120)
    out = ran.stdout
    assert ran.returncode == 0, ran.stdout + ran.stderr
    name = "info-cern-ch-hypertext-www-theproject-html"
    assert name in out, out  # `add` named it (what else it says is its own business)
    # The page's first check is `check --all`'s, or the daemon's when it came first.
    assert re.search(rf"^{name}: (captured|unchanged)$", out, re.M), out
    assert re.search(r"^mfa-2025-12-11-human-rights-penitentiary-en: failed ", out, re.M), out
    assert re.search(r"^checked 2 sources in ", out, re.M), out
    assert re.search(r"^Changes from .* until now$", out, re.M), out  # the report ran
    history = subprocess.run([str(clone / ".venv" / "bin" / "monitor"), "history", name,
                              "--format", "json"], cwd=clone, capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": str(home)})
    assert history.returncode == 0, history.stderr
    recorded = json.loads(history.stdout)
    assert [v["version"] for v in recorded["versions"]] == [1], recorded
    assert recorded["versions"][0]["origin"] == "captured"
    assert recorded["source"] == name and "first web project" in recorded["title"]


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
