"""Signed checkpoints and witnesses: each tampering that left `verify` saying "log intact"
(issue 11, T1-T5) is caught once a checkpoint taken before it is in a witness.

The attacker has the database (raw SQL) and the project's hash functions, not the key
file: every tampering below keeps the hash chains intact, so only the checkpoints can
tell. Real SQLite files (and PostgreSQL for one), the real `monitor` commands.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import monitor
from sqlalchemy import create_engine, text

from monitor.events import ChangeDetected, SourceRegistered
from monitor.store import open_store
from monitor.store.database import _with_driver
from monitor.store.eventstore import chain_hash, hash_payload
from monitor.store.packing import unpack


def change(summary: str) -> ChangeDetected:
    return ChangeDetected(from_hash="a" * 64, to_hash="b" * 64, significance="major",
                          classes=("text",), summary=summary, change={})


def append(url: str, stream: str, *new: Any) -> None:
    store = open_store(url)
    try:
        store.append(stream, store.stream_version(stream), list(new))
    finally:
        store.engine.dispose()


class Log:
    """A store with three documents' streams and two checkpoints in its witness."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.cwd, self.url = tmp_path, url
        self.env = {"MONITOR_DATABASE_URL": url}
        assert self.run("init").code == 0
        for name in ("a", "b", "c"):
            append(url, name, SourceRegistered(name=name, url=f"https://www.gov.kz/{name}",
                                               kind="html", interval_seconds=900))
            append(url, name, change(f"{name}: first"))
        assert self.run("checkpoint").code == 0
        for name in ("a", "b", "c"):
            append(url, name, change(f"{name}: second"), change(f"{name}: third"))
        assert self.run("checkpoint").code == 0

    def run(self, *args: str) -> Any:
        return monitor(*args, cwd=self.cwd, env=self.env)

    def sql(self, *statements: str, **params: Any) -> list[Any]:
        engine = create_engine(_with_driver(self.url))
        try:
            with engine.begin() as conn:
                rows: list[Any] = []
                for statement in statements:
                    result = conn.execute(text(statement), params)
                    if result.returns_rows:
                        rows = list(result)
                return rows
        finally:
            engine.dispose()

    @property
    def witness(self) -> Path:
        return witness_of(self)

    def verify(self, *args: str) -> Any:
        result = self.run("verify", *args)
        assert result.code == 1, result.out + result.err
        assert "log intact" not in result.out
        return result


def witness_of(log: Log) -> Path:
    folder = log.cwd if log.url.startswith("sqlite") else log.cwd / "var"
    return folder / "witness.jsonl"


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}")


def _rehash_stream(log: Log, stream: str) -> None:
    """What an attacker with the hash functions does after an edit: every hash of the
    stream recomputed from its first event on, and the stream's head moved to match."""
    rows = log.sql("SELECT * FROM events WHERE stream_id = :s ORDER BY version", s=stream)
    prev = ""
    for row in rows:
        # the data as recorded: a change's is stored packed (monitor.store.packing)
        data = unpack(row.data if isinstance(row.data, dict) else json.loads(row.data))
        recorded = row.recorded_at
        if isinstance(recorded, str):
            from datetime import datetime
            recorded = datetime.fromisoformat(recorded)
        digest = chain_hash(prev, hash_payload(row.event_id, row.stream_id, row.version, row.type,
                                               row.schema_version, data, recorded))
        log.sql("UPDATE events SET prev_hash = :p, hash = :h WHERE position = :pos",
                p=prev, h=digest, pos=row.position)
        prev = digest
    log.sql("UPDATE streams SET version = :v, head_hash = :h WHERE stream_id = :s",
            v=rows[-1].version, h=prev, s=stream)


def _chains_intact(log: Log) -> None:
    """The tampering fooled the hash chains (it would have fooled `verify` before the
    checkpoints; the projection replay may still see it, which is not the point here)."""
    from monitor.store.verify import verify_log

    store = open_store(log.url)
    try:
        report = verify_log(store.engine)
        assert not [p for p in report.problems if not p.startswith("projection ")]
    finally:
        store.engine.dispose()


def test_an_untouched_log_matches_every_checkpoint(log: Log) -> None:
    result = log.run("verify")
    assert result.code == 0, result.out
    assert "checkpoints: 2 match the log, 2 of them in" in result.out
    summary = log.run("verify", "--format", "json").json()["checkpoints"]
    assert summary["matched"] == 2 and summary["latest"]["events"] == 13


def test_t1_the_last_event_of_a_stream_deleted_and_its_head_moved_back(log: Log) -> None:
    log.sql("DELETE FROM events WHERE stream_id = 'b' AND version = 4")
    _rehash_stream(log, "b")
    _chains_intact(log)
    result = log.verify()
    assert "signed 13 events up to position 13; the log has 12 there: 1 missing" in result.out
    assert "still matches the checkpoint of" in result.out


def test_t2_a_summary_rewritten_and_every_later_hash_recomputed(log: Log) -> None:
    rewritten = json.dumps({**change("b: nothing happened").__dict__, "classes": ["text"]})
    log.sql("UPDATE events SET data = :d WHERE stream_id = 'b' AND version = 2", d=rewritten)
    _rehash_stream(log, "b")
    _chains_intact(log)
    result = log.verify()
    assert "events there are not those signed (another Merkle root)" in result.out
    assert "1 later checkpoints do not match the log either" in result.out


def test_t3_a_forged_event_appended_with_a_correct_hash(log: Log) -> None:
    """Dated before the witnessed checkpoint (why forge it otherwise): that checkpoint
    counted every event recorded by then, and this one was not among them."""
    head = log.sql("SELECT version, head_hash FROM streams WHERE stream_id = 'a'")[0]
    first = log.sql("SELECT recorded_at FROM events ORDER BY position LIMIT 1")[0].recorded_at
    from datetime import datetime
    when = (first if isinstance(first, datetime) else datetime.fromisoformat(first))
    when -= timedelta(days=1)
    data = {**change("a: repealed").__dict__, "classes": ["text"]}
    digest = chain_hash(head.head_hash, hash_payload("f" * 32, "a", head.version + 1,
                                                     "ChangeDetected", 2, data, when))
    log.sql("INSERT INTO events (event_id, stream_id, version, type, schema_version, data, "
            "recorded_at, prev_hash, hash) VALUES (:id, 'a', :v, 'ChangeDetected', 2, :d, :t, "
            ":p, :h)", id="f" * 32, v=head.version + 1, d=json.dumps(data), t=when,
            p=head.head_hash, h=digest)
    log.sql("UPDATE streams SET version = :v, head_hash = :h WHERE stream_id = 'a'",
            v=head.version + 1, h=digest)
    _chains_intact(log)
    result = log.verify()
    assert f"stream 'a' event {head.version + 1} (position" in result.out
    assert "not this one: it was added afterwards" in result.out


def test_t4_a_whole_documents_stream_events_and_projections_deleted(log: Log) -> None:
    log.sql(*(f"DELETE FROM {table} WHERE stream_id = 'c'"
              for table in ("events", "streams", "changes", "versions", "sources")))
    _chains_intact(log)
    result = log.verify()
    assert "signed 6 events up to position 6" in result.out  # the first checkpoint
    assert "2 missing" in result.out


def test_t5_two_events_positions_swapped(log: Log) -> None:
    a, b = (row.position for row in log.sql(
        "SELECT position FROM events WHERE stream_id IN ('a', 'b') AND version = 3 "
        "ORDER BY position"))
    log.sql("UPDATE events SET position = -1 WHERE position = :a",
            "UPDATE events SET position = :a WHERE position = :b",
            "UPDATE events SET position = :b WHERE position = -1", a=a, b=b)
    _chains_intact(log)
    result = log.verify()
    assert "not those signed (another Merkle root): altered, reordered or replaced" in result.out
    assert "so the change lies after position 6" in result.out


def test_a_witness_line_edited_fails_its_signature(log: Log) -> None:
    lines = log.witness.read_text().splitlines()
    record = json.loads(lines[0])
    record["events"] += 1
    log.witness.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    result = log.verify()
    assert f"witness {log.witness} line 1: the signature does not match" in result.out


def test_a_witness_lines_consistency_proof_is_checked(log: Log) -> None:
    """The proof is not signed (it follows from the two signed roots): an edited one is
    named, whatever the log holds."""
    lines = log.witness.read_text().splitlines()
    record = json.loads(lines[1])
    assert record["previous"] == 6 and record["proof"]
    record["proof"][0] = "0" * 64
    log.witness.write_text("\n".join([lines[0], json.dumps(record)]) + "\n")
    result = log.verify()
    assert f"witness {log.witness} line 2: its proof that it extends the checkpoint" in result.out
    assert "(6 events) does not hold" in result.out


def test_a_checkpoint_event_removed_from_the_store_is_named_by_the_witness(log: Log) -> None:
    log.sql("DELETE FROM events WHERE type = 'CheckpointSigned' AND version = 2")
    log.sql("UPDATE streams SET version = 1, head_hash = (SELECT hash FROM events WHERE "
            "type = 'CheckpointSigned') WHERE stream_id = 'evidence/checkpoints'")
    _chains_intact(log)
    result = log.verify()
    assert f"witness {log.witness} line 2: the checkpoint of" in result.out
    assert "is not recorded in the store" in result.out


def test_a_witness_checked_with_the_wrong_public_key(log: Log, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = tmp_path / "other.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    result = log.verify("--public-key", str(other))
    assert "not by the key checked against" in result.out


def test_a_witness_kept_elsewhere_and_the_public_key_given(log: Log, tmp_path: Path) -> None:
    """The case that matters: the key file and the store's witness are the attacker's
    too; the auditor has a copy of the witness and the published public key."""
    keys = log.run("keys", "--format", "json").json()
    public = tmp_path / "published.b64"
    public.write_text(keys["public_key_base64"] + "\n")
    kept = tmp_path / "elsewhere.jsonl"
    kept.write_text(log.witness.read_text())
    log.witness.unlink()  # the attacker removes the local witness ...
    log.sql("DELETE FROM events WHERE stream_id = 'b' AND version = 4")  # ... and an event
    _rehash_stream(log, "b")
    result = log.verify("--witness", str(kept), "--public-key", str(public))
    assert "1 missing" in result.out and f"witness {kept} line 2" in result.out


def test_taking_a_checkpoint_on_an_altered_log_is_refused(log: Log) -> None:
    log.sql("DELETE FROM events WHERE stream_id = 'b' AND version = 4")
    _rehash_stream(log, "b")
    before = log.witness.read_text()
    result = log.run("checkpoint")
    assert result.code == 1
    assert "the log no longer matches the checkpoint of" in result.err
    assert log.witness.read_text() == before


def test_t2_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    log = Log(tmp_path, postgres_url)
    assert log.run("verify").code == 0
    rewritten = json.dumps({**change("b: nothing happened").__dict__, "classes": ["text"]})
    log.sql("UPDATE events SET data = CAST(:d AS JSON) WHERE stream_id = 'b' AND version = 2",
            d=rewritten)
    _rehash_stream(log, "b")
    _chains_intact(log)
    assert "another Merkle root" in log.verify().out
