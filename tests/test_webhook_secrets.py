"""A token in a webhook URL's path is a secret: no delivery error, stored or printed,
repeats it, whatever the receiver (or requests) says."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import monitor
from http_faults import FaultServer, Reply

from monitor.alerts import Dispatcher
from monitor.alerts.outbox import listing
from monitor.config import AlertConfig, Config
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import ChangeDetected, SourceRegistered
from monitor.replica.webhook_sink import SECRET

TOKEN = "SECRETTOKEN123"
SECRET_ENV = "TEST_HOOK_SECRETS_SECRET"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def receiver() -> Iterator[FaultServer]:
    """A receiver that fails, and echoes the path it was called on in its answer."""
    with FaultServer() as server:
        server.route(f"/hooks/{TOKEN}", Reply(500, f"no such hook: /hooks/{TOKEN}".encode(),
                                               {"Content-Type": "text/plain"}))
        yield server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(tmp_path: Path, db_url: str, hook_url: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n[[alerts]]\nname = "newsroom"\n'
                    f'kind = "webhook"\nurl = "{hook_url}"\nsecret_env = "{SECRET_ENV}"\n'
                    'timeout = "2s"\n', encoding="utf-8")
    return path


def record_a_change(store) -> None:  # type: ignore[no-untyped-def]
    store.append("page", 0, [SourceRegistered(name="page", url="https://example.org/page",
                                              kind="html", interval_seconds=3600)])
    diff = diff_documents(Document("Notice", None, ("It had 120 members.",)),
                          Document("Notice", None, ("It had 150 members.",)))
    store.append("page", 1, [ChangeDetected(
        from_hash="a" * 64, to_hash="b" * 64, significance=diff.significance,
        classes=diff.classes, summary=diff.summary(), change=diff.to_dict())])


def dispatch(store, hook_url: str) -> str:  # type: ignore[no-untyped-def]
    channel = AlertConfig("newsroom", "webhook", {"url": hook_url, "secret_env": SECRET_ENV,
                                                  "timeout": "2s"})
    summary = Dispatcher(store, Config(path=None, database_url="", alerts=(channel,))).run_once()
    assert summary.retrying == 1
    [row] = listing(store.engine)
    return str(row.last_error)


@pytest.mark.parametrize("where", ["answers 500", "refuses the connection"])
def test_a_token_in_the_webhook_path_never_reaches_last_error_or_the_cli(
        where: str, receiver: FaultServer, store, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hook_url = (receiver.url(f"/hooks/{TOKEN}") if where == "answers 500"
                else f"http://127.0.0.1:{closed_port()}/hooks/{TOKEN}")
    record_a_change(store)
    error = dispatch(store, hook_url)
    assert TOKEN not in error
    host = hook_url.split("/hooks/")[0]
    assert error.startswith(f"{host}/…")  # where it went, without the path
    assert ("HTTP 500: no such hook: …" in error if where == "answers 500"
            else "Connection refused" in error)

    config = write_config(tmp_path, db_url, hook_url)
    listed = monitor("--config", str(config), "alerts", cwd=tmp_path)
    assert listed.code == 0 and "last error" in listed.out
    tried = monitor("--config", str(config), "alerts", "test", "newsroom", cwd=tmp_path)
    assert tried.code == 1 and "test alert through newsroom" in tried.err
    for output in (listed.out, listed.err, tried.out, tried.err):
        assert TOKEN not in output
