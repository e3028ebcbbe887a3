"""`monitor run` end to end, as users run it: a configuration file, the daemon in a
subprocess writing its own log file, waits on what it records, and a stop that must be
clean. Used by every test that starts the daemon (test_daemon, test_confirm_daemon,
test_digest_daemon, test_soft_removal_daemon, test_hostile_crash).

The timings are the product's, made short where the product lets a user set them: the
dispatcher looks for due alerts every second (`dispatch_every`), not every five, so a
wait "for more dispatch ticks" lasts a couple of seconds. The web app is off unless a
test asks for it: it costs each start a second of CPU and none of these tests reads it
but the one that asserts the daemon serves it (test_daemon).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cli_helpers import child_environment, monitor

from monitor.store import open_store

T = TypeVar("T")
DISPATCH_EVERY = 1.0  # seconds; the product's default is 5


def source(url: str, name: str = "article", kind: str = "govkz", interval: str = "1s",
           extra: str = "") -> str:
    """A [[sources]] table."""
    return (f'[[sources]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n'
            f'interval = "{interval}"\n{extra}\n')


def webhook(url: str, secret_env: str, name: str = "hook", extra: str = "") -> str:
    """A webhook channel's [[alerts]] table."""
    return (f'[[alerts]]\nname = "{name}"\nkind = "webhook"\nurl = "{url}"\n'
            f'secret_env = "{secret_env}"\n{extra}\n')


def email(port: int, name: str = "mail", to: str = "desk@localhost",
          sender: str = "monitor@localhost", extra: str = "") -> str:
    """An e-mail channel's [[alerts]] table, to an SMTP server on 127.0.0.1 without TLS."""
    return (f'[[alerts]]\nname = "{name}"\nkind = "email"\nhost = "127.0.0.1"\n'
            f'port = {port}\nsecurity = "none"\nfrom = "{sender}"\nto = ["{to}"]\n{extra}\n')


def write_config(tmp_path: Path, db_url: str, *tables: str, retries: int = 1,
                 defaults: str = "", web: bool = False) -> Path:
    """monitor.toml in tmp_path, `monitor init` run on it: quick fetches, the dispatcher
    every DISPATCH_EVERY seconds, then `tables` ([[sources]], [[alerts]])."""
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[defaults]\ndispatch_every = "{DISPATCH_EVERY:g}s"\n{defaults}\n'
        f'[fetch]\nmin_delay_per_host = "0s"\ntimeout = "3s"\nretries = {retries}\n'
        'backoff = "0.05s"\n'
        f"[web]\nenabled = {'true' if web else 'false'}\n" + "".join(tables),
        encoding="utf-8")
    done = monitor("--config", str(config), "init", cwd=tmp_path)
    assert done.code == 0, done.err
    return config


class Daemon:
    """`monitor run --workers 4 [args]` in a subprocess, its output in `log`."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        full = child_environment()
        full["MONITOR_CONFIG"] = str(config)
        full.update(env or {})
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--workers", "4", *args],
                cwd=config.parent, env=full, stdout=out, stderr=subprocess.STDOUT, text=True)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self, how: signal.Signals = signal.SIGTERM, within: float = 20) -> None:
        """Signal it; it must exit 0 within `within` seconds with no traceback logged."""
        self.process.send_signal(how)
        code = self.process.wait(timeout=within)
        assert code == 0, self.text()[-3000:]
        assert "Traceback" not in self.text(), self.text()[-3000:]

    def kill(self) -> None:
        """SIGKILL: no goodbye, as a power cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def ensure_stopped(self) -> None:
        """For a `finally`: a daemon a failed test left running is killed."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


def start(config: Path, env: dict[str, str] | None = None,
          log: str = "daemon.log", args: tuple[str, ...] = ()) -> Daemon:
    """`monitor run --workers 4`, then `args` (`--metrics-port 9310`)."""
    return Daemon(config, config.parent / log, env, args)


def wait_for(predicate: Callable[[], T], timeout: float, what: str,
             every: float = 0.2) -> T:
    """The first truthy value of `predicate`, polled every `every` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def events(db_url: str, stream: str | None = None) -> list[Any]:
    """The log (one stream's part of it, if given), read by a store of its own."""
    store = open_store(db_url)
    try:
        return [e for e in store.read_all() if stream is None or e.stream_id == stream]
    finally:
        store.engine.dispose()


def deliveries(db_url: str) -> dict[str, str]:
    """The outbox: each channel's delivery state (one alert per channel at most)."""
    from monitor.alerts.outbox import listing

    store = open_store(db_url)
    try:
        return {row.channel: row.state for row in listing(store.engine)}
    finally:
        store.engine.dispose()


def types(db_url: str, stream: str | None = None) -> list[str]:
    return [e.type for e in events(db_url, stream)]


def of(db_url: str, kind: str, stream: str | None = "article") -> list[Any]:
    """The events of one type (of the stream `article` unless told otherwise)."""
    return [e for e in events(db_url, stream) if e.type == kind]
