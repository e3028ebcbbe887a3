"""`monitor serve`: the web app alone, in several processes against one PostgreSQL.
A session signed by one process is read by the others (the secret is in the store),
and the first-admin link is printed while there are no users."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import child_environment, monitor
from web_helpers import PASSWORD, Client

from monitor.store import open_store
from monitor.web.accounts.users import add_user


def _serve(db: str, tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    log = tmp_path / "serve.log"
    env = child_environment()
    env["MONITOR_DATABASE_URL"] = db
    handle = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "serve", *args], cwd=tmp_path,
                            env=env, stdout=handle, stderr=subprocess.STDOUT, text=True)
    return proc, log


def _wait_for_url(proc: subprocess.Popen[str], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        found = re.search(r"^web app: (http://\S+)/$", text, re.M)
        if found and ("no users yet" in text or "users" not in text):
            return found.group(1)
        assert proc.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"monitor serve printed no URL: {log.read_text()}")


def test_serve_in_two_processes_shares_sessions_through_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    assert monitor("--database", postgres_url, "init", cwd=tmp_path).code == 0
    proc, log = _serve(postgres_url, tmp_path, "--listen", "127.0.0.1:0", "--processes", "2")
    try:
        url = _wait_for_url(proc, log)
        deadline = time.monotonic() + 30
        while "no users yet: open " not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        store = open_store(postgres_url)
        add_user(store.engine, "dana", "viewer", PASSWORD)
        store.engine.dispose()
        # Fresh connections each time, so both processes answer some of them.
        browser = Client(url)
        browser.sign_in("dana")
        for _ in range(30):
            fresh = Client(url)
            fresh.cookies.update(browser.cookies)
            answer = fresh.get("/", allow_redirects=False, headers={"Connection": "close"})
            assert answer.status_code == 200, answer.text[:300]
            assert "dana" in answer.text
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_serve_refuses_a_taken_port_and_a_bad_listen_in_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert monitor("--database", db, "init", cwd=tmp_path).code == 0
    bad = monitor("--database", db, "serve", "--listen", "nowhere", cwd=tmp_path)
    assert bad.code == 2 and "HOST:PORT" in bad.err and bad.err.count("\n") == 1
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        busy = monitor("--database", db, "serve", "--listen", f"127.0.0.1:{port}",
                       cwd=tmp_path, own_process=True)
        assert busy.code == 2 and "cannot listen there" in busy.err
        assert busy.err.count("\n") == 1 and "Traceback" not in busy.err
    finally:
        taken.close()
