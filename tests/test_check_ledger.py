"""Proof of the quiet hours (issue 11, item 6): every check leaves a row in the check
ledger, the next checkpoint covers it through a ChecksSummarized event, `history
--checks` answers per check, and `verify` names a ledger row altered afterwards.
Real stores (SQLite and PostgreSQL), a real HTTP server on loopback, the real CLI."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from http_faults import Reply
from sqlalchemy import create_engine, text

from monitor.evidence.checkpoints import due
from monitor.evidence.settings import EvidenceSettings
from monitor.store import open_store
from monitor.store.database import _with_driver

PAGE = ("<html><head><title>Order</title><!-- {token} --></head><body><article>"
        "<h1>Order 12</h1><p>The office is open from nine to six on weekdays.</p>"
        "</article></body></html>")


def sql(url: str, statement: str) -> list[Any]:
    engine = create_engine(_with_driver(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def test_each_check_is_traced_covered_and_checked(run, server, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, noisy = PAGE.format(token="a1").encode(), PAGE.format(token="b2").encode()
    # The 503 is retried as configured, 50 ms apart rather than the default 1 s and 2 s.
    (tmp_path / "monitor.toml").write_text('[fetch]\nbackoff = "0.05s"\n')
    server.route("/doc", Reply.page(first), Reply.page(noisy), Reply.page(first),
                 Reply(status=503))
    assert run("add", "--no-probe", server.url("/doc"), "--name", "doc").code == 0
    for _ in range(4):
        assert run("check", "--all", "--no-learn").code == 0

    shown = run("history", "doc", "--checks", "--format", "json")
    assert shown.code == 0, shown.err
    checks = shown.json()["checks"]
    version = run("history", "doc", "--format", "json").json()["versions"][0]["content_hash"]
    assert [c["outcome"] for c in checks] == ["new version", "unchanged", "unchanged", "failed"]
    assert [c["status"] for c in checks] == [200, 200, 200, 503]
    assert [c["text_sha256"] for c in checks] == [version, version, version, None]
    full, other = hashlib.sha256(first).hexdigest(), hashlib.sha256(noisy).hexdigest()
    # the kept page's hash is derived in full; another body's is stored as 160 bits
    assert [c["raw_sha256"] for c in checks] == [full, other[:40], full, None]
    assert {c["covered"] for c in checks} == {"pending"}

    assert run("checkpoint").code == 0
    covered = run("history", "doc", "--checks", "--format", "json").json()["checks"]
    assert {c["covered"] for c in covered} == {"signed"}
    lines = run("history", "doc", "--checks").out
    assert "unchanged" in lines and f"text sha256:{version}" in lines and "[signed]" in lines
    assert "ChecksSummarized" in run("events").out

    intact = run("verify")
    assert intact.code == 0, intact.out
    assert "4 check ledger rows match their summaries" in intact.out
    assert "0 checks" in run("history", "doc", "--checks", "--since", "2099-01-01").out
    assert len(run("history", "doc", "--checks", "--until", "2099-01-01", "--format",
                   "json").json()["checks"]) == 4
    assert run("history", "doc", "--since", "7d").code == 2  # --since goes with --checks

    row = sql(db_url, "SELECT id FROM check_ledger ORDER BY id")[2].id
    sql(db_url, f"UPDATE check_ledger SET status = 500 WHERE id = {row}")
    altered = run("verify")
    assert altered.code == 1
    assert f"check ledger row {row} (doc, " in altered.out, altered.out


def test_a_removed_row_is_counted_and_quiet_checks_make_a_checkpoint_due(  # type: ignore[no-untyped-def]
        run, server, db_url: str, tmp_path: Path) -> None:
    server.route("/doc", Reply.page(PAGE.format(token="x")))
    assert run("add", "--no-probe", server.url("/doc"), "--name", "doc").code == 0
    assert run("check", "--all", "--no-learn").code == 0
    assert run("checkpoint").code == 0
    settings = EvidenceSettings(key_file=tmp_path / "k", witness_file=tmp_path / "w",
                                checkpoint_every=60)
    later = datetime(2099, 1, 1)
    assert not _due(db_url, settings, later)  # nothing new since the checkpoint
    assert run("check", "--all", "--no-learn").code == 0  # unchanged: a row, no event
    assert _due(db_url, settings, later)  # the ledger has a row no summary holds yet
    assert run("checkpoint").code == 0
    sql(db_url, "DELETE FROM check_ledger WHERE id = (SELECT MIN(id) FROM check_ledger)")
    altered = run("verify")
    assert altered.code == 1
    assert "the ledger holds 0 rows there: 1 missing" in altered.out, altered.out


def _due(url: str, settings: EvidenceSettings, now: datetime) -> bool:
    store = open_store(url, clock=lambda: now)
    try:
        return due(store, settings)
    finally:
        store.engine.dispose()


@pytest.mark.slow
def test_checks_in_parallel_all_leave_their_row(run, server, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # One host: without this the politeness delay would space the checks a second apart.
    (tmp_path / "monitor.toml").write_text(
        '[fetch]\nmin_delay_per_host = "0s"\nmax_concurrent_per_host = 12\n')
    for n in range(12):
        server.route(f"/p{n}", Reply.page(PAGE.format(token=n)))
    added = run("add", "--no-probe", *(server.url(f"/p{n}") for n in range(12)))
    assert added.code == 0, added.err
    for _ in range(2):
        done = run("check", "--all", "--no-learn", "--workers", "12", "--format", "json")
        assert done.code == 0 and "not written" not in done.err, done.err
    rows = sql(db_url, "SELECT source, COUNT(*) AS n FROM check_ledger GROUP BY source")
    assert len(rows) == 12 and {r.n for r in rows} == {2}
