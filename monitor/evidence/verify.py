"""What `monitor verify` adds to the hash chains: the checkpoints it can see, checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.evidence.audit import AuditReport, audit, gather
from monitor.evidence.checkpoints import store_checkpoints
from monitor.evidence.keys import PublicKey, load_public_key, load_signing_key
from monitor.evidence.ledger import audit_ledger
from monitor.evidence.settings import EvidenceSettings
from monitor.store import EventStore


def check_evidence(store: EventStore, settings: EvidenceSettings, witnesses: Sequence[Path],
                   public_key: Path | None) -> tuple[AuditReport, list[Path], PublicKey | None]:
    """The audit of the store against its own checkpoints, the configured witness file
    (when it exists) and the `witnesses` given; signatures checked with `public_key`,
    else the key file's public half (when there is one)."""
    if public_key is not None:
        key: PublicKey | None = load_public_key(public_key)
    elif settings.key_file.exists():
        key = load_signing_key(settings.key_file).public
    else:
        key = None
    files: list[Path] = []
    for path in ([settings.witness_file] if settings.witness_file.exists() else []) + list(
            witnesses):
        if all(path.resolve() != known.resolve() for known in files):
            files.append(path)
    report = AuditReport()
    audit(store.engine, gather(store_checkpoints(store), files, report), key, report)
    problems, report.ledger_rows = audit_ledger(store)
    report.problems += problems
    return report, files, key


def summary(report: AuditReport, files: list[Path], key: PublicKey | None) -> dict[str, Any]:
    latest = report.latest
    return {"matched": report.checkpoints, "witnessed": report.witnessed,
            "witness_files": [str(f) for f in files], "ledger_rows": report.ledger_rows,
            "key_id": key.key_id if key is not None else None,
            "latest": latest.record() if latest is not None else None}


def summary_line(report: AuditReport, files: list[Path]) -> str | None:
    latest = report.latest
    if latest is None:
        return None
    ledger = (f"; {report.ledger_rows} check ledger rows match their summaries"
              if report.ledger_rows else "")
    witnessed = (f", {report.witnessed} of them in {', '.join(str(f) for f in files)}"
                 if files else ", none in a witness file")
    return (f"checkpoints: {report.checkpoints} match the log{witnessed}; the latest, "
            f"signed {latest.time}, covers {latest.events} events up to position "
            f"{latest.position}{ledger}")
