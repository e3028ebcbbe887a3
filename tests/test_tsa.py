"""RFC 3161 timestamps on checkpoints (issue 11, item 2): a local timestamp authority
(`openssl ts -reply` behind an HTTP server on 127.0.0.1, its CA made here) stamps each
checkpoint; the token is kept in the event and the witness line; `verify` checks it
against `[evidence] tsa_ca_file` and names a token that does not hold; a TSA that is
down leaves a checkpoint without a token, and the next one asks again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import monitor
from local_tsa import LocalTsa, make_ca

from monitor.events import SourcePaused, SourceRegistered
from monitor.evidence.tsa import stamp_time
from monitor.store import open_store


class Stamped:
    def __init__(self, tmp_path: Path, tsa: LocalTsa) -> None:
        self.cwd, self.tsa = tmp_path, tsa
        self.url = f"sqlite:///{tmp_path / 'var' / 'monitor.db'}"
        self.configure(tsa.ca_file)
        assert self.run("init").code == 0
        self.append(SourceRegistered(name="a", url="https://www.gov.kz/a", kind="html",
                                     interval_seconds=900))

    def configure(self, ca_file: Path) -> None:
        (self.cwd / "monitor.toml").write_text(
            f'database_url = "{self.url}"\n[evidence]\ntsa_url = "{self.tsa.url}"\n'
            f'tsa_ca_file = "{ca_file}"\n')

    def run(self, *args: str) -> Any:
        return monitor(*args, cwd=self.cwd)

    def append(self, *new: Any) -> None:
        store = open_store(self.url)
        try:
            store.append("a", store.stream_version("a"), list(new))
        finally:
            store.engine.dispose()

    def witness(self) -> list[dict[str, Any]]:
        text = (self.cwd / "var" / "witness.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines()]


def test_checkpoints_are_timestamped_and_verify_checks_the_tokens(tmp_path: Path) -> None:
    with LocalTsa(tmp_path / "tsa") as tsa:
        log = Stamped(tmp_path, tsa)
        taken = log.run("checkpoint", "--format", "json")
        assert taken.code == 0, taken.err
        token = taken.json()["tsa_token"]
        assert tsa.queries == 1 and stamp_time(token) is not None
        assert log.witness()[0]["tsa_token"] == token
        events = [json.loads(line) for line in log.run("events", "--json").out.splitlines()]
        assert [e["data"].get("tsa_token") for e in events
                if e["type"] == "CheckpointSigned"] == [token]

        tsa.down = True  # no token this time; the checkpoint is made all the same
        log.append(SourcePaused(reason="x"))
        unstamped = log.run("checkpoint", "--format", "json")
        assert unstamped.code == 0, unstamped.err
        assert "tsa_token" not in unstamped.json()
        assert "checkpoint made without a timestamp" in unstamped.err, unstamped.err
        tsa.down = False  # the next one asks again
        log.append(SourcePaused(reason="y"))
        said = log.run("checkpoint")
        assert f"timestamp: {tsa.url} stamped it at 20" in said.out, said.out + said.err

        intact = log.run("verify")
        assert intact.code == 0, intact.out
        assert "2 carry an RFC 3161 timestamp that verifies" in intact.out

        (tmp_path / "other").mkdir()
        make_ca(tmp_path / "other", "Someone else")
        log.configure(tmp_path / "other" / "ca.pem")
        foreign = log.run("verify")
        assert foreign.code == 1
        assert "its TSA token does not verify against the TSA certificates" in foreign.out
        log.configure(tsa.ca_file)

        lines = log.witness()  # a token moved to another checkpoint's line
        lines[2]["tsa_token"] = lines[0]["tsa_token"]
        (tmp_path / "var" / "witness.jsonl").write_text(
            "".join(json.dumps(line) + "\n" for line in lines))
        moved = log.run("verify")
        assert moved.code == 1
        assert ("line 3: its TSA token stamps another message than the checkpoint's"
                in moved.out), moved.out
