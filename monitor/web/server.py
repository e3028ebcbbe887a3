"""Serving the web app with uvicorn: in a thread beside the daemon (`monitor run`), or
alone in one or more processes (`monitor serve`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import uvicorn

from monitor.config import Config, split_listen
from monitor.errors import ConfigError
from monitor.store import EventStore
from monitor.web.accounts.invites import first_admin_link
from monitor.web.live import close_all, close_streams

log = logging.getLogger("monitor.web")
STARTUP_SECONDS = 15.0


def bind(listen: str) -> socket.socket:
    """A listening socket for HOST:PORT, or a one-line error that says what is wrong."""
    host, port = split_listen(listen)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"web.listen {listen!r}: cannot resolve {host!r}: {exc.strerror}") \
            from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"web.listen {listen!r}: cannot listen there: {exc.strerror} (set "
                          "[web] listen or $MONITOR_WEB_LISTEN to another HOST:PORT)") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def announce(config: Config, store: EventStore, local_url: str, say: object) -> None:
    """Prints where the app is, and the first-admin link while there are no users."""
    where = config.public_url or local_url
    say(f"web app: {where}/")  # type: ignore[operator]
    link = first_admin_link(store.engine, where)
    if link:
        say(f"no users yet: open {link} to create the first admin "  # type: ignore[operator]
            "(it works once, for a day)")


def _uvicorn_config(app: Any, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=True,
                          server_header=False, timeout_graceful_shutdown=3, lifespan="off",
                          **extra)


class WebThread:
    """The web app in a daemon thread of this process."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.app = app
        self.sock = sock
        self.server = uvicorn.Server(_uvicorn_config(app))
        # uvicorn only takes signals in the main thread: the daemon keeps its own.
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except Exception:  # the daemon keeps checking even if the web app dies
            log.exception("the web app stopped")

    def start(self) -> WebThread:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started and self.thread.is_alive() and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        close_streams(self.app)  # an open /live stream would hold the shutdown
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


class _Server(uvicorn.Server):
    """Ends the open /live streams when told to stop (one process: each worker of
    several is uvicorn's own, and its streams end at the graceful-shutdown timeout)."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        close_all()
        super().handle_exit(sig, frame)


def serve_forever(sock: socket.socket, processes: int) -> None:
    """`monitor serve`: uvicorn in this process, or `processes` worker processes sharing
    the socket. Each builds its app from $MONITOR_CONFIG and $MONITOR_DATABASE_URL."""
    config = _uvicorn_config("monitor.web.asgi:from_environment", factory=True,
                             workers=processes, fd=None)
    server = _Server(config)
    if processes > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])


def environment_for(config_path: str | None, database_url: str) -> None:
    """What `from_environment` reads in each process of `monitor serve`."""
    if config_path:
        os.environ["MONITOR_CONFIG"] = config_path
    os.environ["MONITOR_DATABASE_URL"] = database_url
