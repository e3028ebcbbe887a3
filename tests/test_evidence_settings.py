"""The checkpoint key, the `[evidence]` settings and the daemon's checkpoint cadence."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from cli_helpers import monitor

from monitor.clock import ManualClock
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.events import SourcePaused, SourceRegistered
from monitor.evidence import checkpoints
from monitor.evidence.cadence import Checkpointer
from monitor.evidence.keys import create_key, load_public_key, load_signing_key
from monitor.evidence.settings import evidence_settings
from monitor.store import migrate, open_store


def test_init_makes_a_private_key_beside_the_store_and_keys_shows_its_public_half(
        tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'monitor.db'}"}
    made = monitor("init", cwd=tmp_path, env=env)
    key = tmp_path / "var" / "keys" / "checkpoint.ed25519"
    assert made.code == 0 and f"checkpoint key made: {key}" in made.out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    again = monitor("init", cwd=tmp_path, env=env)
    assert "checkpoint key made" not in again.out  # the same key, kept
    shown = monitor("keys", "--format", "json", cwd=tmp_path, env=env).json()
    assert shown["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    for form in (shown["pem"], shown["public_key_base64"], shown["public_key_hex"]):
        public = tmp_path / "public"
        public.write_text(form)
        assert load_public_key(public).key_id == shown["key_id"]
    text = monitor("keys", cwd=tmp_path, env=env).out
    assert shown["fingerprint"] in text and shown["public_key_base64"] in text


def test_a_key_file_readable_by_others_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'monitor.db'}"}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    key = tmp_path / "keys" / "checkpoint.ed25519"
    os.chmod(key, 0o644)
    for command in ("checkpoint", "keys", "verify"):
        result = monitor(command, cwd=tmp_path, env=env)
        assert result.code == 2, command
        assert result.err.strip() == (f"error: {key}: the checkpoint key is readable by others "
                                      f"(mode 0644); run `chmod 600 {key}`")


def test_a_missing_or_foreign_key_is_said_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no checkpoint key .*run `monitor init`"):
        load_signing_key(tmp_path / "none")
    junk = tmp_path / "junk"
    junk.write_text("not a key")
    os.chmod(junk, 0o600)
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signing_key(junk)
    with pytest.raises(ConfigError, match="not an Ed25519 public key"):
        load_public_key(junk)
    assert create_key(tmp_path / "k" / "key") and not create_key(tmp_path / "k" / "key")


def _config(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'database_url = "sqlite:///var/m.db"\n[evidence]\n{table}\n')
    return path


@pytest.mark.parametrize(("table", "words"), [
    ('checkpoint_every = "30s"', "evidence.checkpoint_every: '30s' is too short"),
    ('checkpoint_every = "soon"', "evidence.checkpoint_every: 'soon' is not a duration"),
    ("checkpoint_events = 0", "evidence.checkpoint_events: must be a whole number >= 1"),
    ("checkpoint_events = true", "evidence.checkpoint_events: must be a whole number >= 1"),
    ('witness_file = ""', "evidence.witness_file: must be a non-empty path"),
    ('tsa_url = "ftp://tsa.example/"', "evidence.tsa_url: must be an http:// or https://"),
    ("tsa_url = 3", "evidence.tsa_url: must be an http:// or https://"),
    ('tsa_ca_file = ""', "evidence.tsa_ca_file: must be a non-empty path"),
    ("every = 3", "evidence.every: unknown key (known: checkpoint_events, checkpoint_every"),
])
def test_bad_evidence_settings_are_refused_at_load(tmp_path: Path, table: str,
                                                   words: str) -> None:
    path = _config(tmp_path, table)
    with pytest.raises(ConfigError, match="^" + str(path).replace(".", r"\.") + ": ") as err:
        load_config(str(path))
    assert words in str(err.value)


def test_evidence_paths_default_beside_the_store_and_resolve_from_the_config(
        tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, 'witness_file = "w/witness.jsonl"\n'
                                                'checkpoint_every = "2h"')))
    settings = evidence_settings(config)
    assert settings.witness_file == tmp_path / "w" / "witness.jsonl"
    assert settings.key_file == tmp_path / "var" / "keys" / "checkpoint.ed25519"
    assert settings.checkpoint_every == 7200 and settings.checkpoint_events == 1000
    on_postgres = evidence_settings(config, "postgresql://u@db/monitor")
    assert on_postgres.key_file == tmp_path / "var" / "keys" / "checkpoint.ed25519"


def test_the_daemon_signs_after_n_events_or_after_the_interval(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture
                                                               ) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    clock = ManualClock(datetime(2026, 12, 1, 12, 0, 0))
    store = open_store(url, check_schema=False)
    migrate.upgrade(store.engine)
    store.clock = clock
    settings = evidence_settings(load_config(str(_config(tmp_path, "checkpoint_events = 3"))),
                                 url)
    create_key(settings.key_file)
    sign = Checkpointer(store, load_signing_key(settings.key_file), settings)

    def add(n: int) -> None:
        for _ in range(n):
            version = store.stream_version("a")
            store.append("a", version, [SourceRegistered(name="a", url="https://x.kz/a",
                                                         kind="html", interval_seconds=60)
                                        if version == 0 else SourcePaused()])

    assert sign() is None  # an empty log: nothing to sign
    add(1)
    first = sign()
    assert first is not None and first.events == 1
    assert sign() is None  # only its own event came after it
    add(2)
    assert sign() is None  # 2 new events (and its own) are not yet 3
    add(1)
    second = sign()
    assert second is not None and second.events == 5 and second.previous == 1
    add(1)
    assert sign() is None
    clock.advance(3600)
    third = sign()
    assert third is not None and third.events == 7
    lines = settings.witness_file.read_text().splitlines()
    assert len(lines) == 3 and len(checkpoints.store_checkpoints(store)) == 3
    # A log altered behind its back is not signed again; said once, not every tick.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE position = 2")
    add(3)
    clock.advance(2 * 3600)
    with caplog.at_level(logging.ERROR, logger="monitor.evidence"):
        assert sign() is None and sign() is None
    refusals = [r for r in caplog.records if "checkpoint refused" in r.getMessage()]
    assert len(refusals) == 1 and "no longer matches the checkpoint" in refusals[0].getMessage()
    assert len(settings.witness_file.read_text().splitlines()) == 3
    store.engine.dispose()
