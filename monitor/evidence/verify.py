"""What `monitor verify` adds to the hash chains: the checkpoints it can see, checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.evidence.audit import AuditReport, Seen, audit, gather
from monitor.evidence.checkpoints import store_checkpoints
from monitor.evidence.keys import PublicKey, load_public_key, load_signing_key
from monitor.evidence.ledger import audit_ledger
from monitor.evidence.settings import EvidenceSettings
from monitor.evidence.tsa import check_token, load_roots
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
    seen = gather(store_checkpoints(store), files, report)
    audit(store.engine, seen, key, report)
    _check_tokens(seen, settings, report)
    problems, report.ledger_rows = audit_ledger(store)
    report.problems += problems
    return report, files, key


def _check_tokens(seen: list[Seen], settings: EvidenceSettings, report: AuditReport) -> None:
    """Each checkpoint's RFC 3161 token: it stamps the checkpoint's signed message, and
    its signature chains to `[evidence] tsa_ca_file`."""
    stamped = [s for s in seen if s.checkpoint.tsa_token is not None]
    if not stamped:
        return
    certificates = load_roots(settings.tsa_ca_file) if settings.tsa_ca_file else None
    if certificates is None:
        report.warnings.append("checkpoints carry TSA timestamps, but no [evidence] "
                               "tsa_ca_file: their signatures were not checked")
    good = set()
    for s in stamped:
        token = s.checkpoint.tsa_token
        assert token is not None
        problem = check_token(token, s.checkpoint.message(), certificates)
        if problem:
            report.problems.append(f"{s.origin}: {problem}")
        elif certificates is not None:
            good.add((s.checkpoint.position, s.checkpoint.root))
    report.timestamped = len(good)


def summary(report: AuditReport, files: list[Path], key: PublicKey | None) -> dict[str, Any]:
    latest = report.latest
    return {"matched": report.checkpoints, "witnessed": report.witnessed,
            "witness_files": [str(f) for f in files], "ledger_rows": report.ledger_rows,
            "timestamped": report.timestamped,
            "key_id": key.key_id if key is not None else None,
            "latest": latest.record() if latest is not None else None}


def summary_line(report: AuditReport, files: list[Path]) -> str | None:
    latest = report.latest
    if latest is None:
        return None
    rows = "row matches its summary" if report.ledger_rows == 1 else "rows match their summaries"
    ledger = (f"; {report.ledger_rows} check ledger {rows}"
              if report.ledger_rows else "")
    if report.timestamped:
        ledger += (f"; {report.timestamped} carry an RFC 3161 timestamp that verifies "
                   "against the TSA's certificates")
    witnessed = (f", {report.witnessed} of them in {', '.join(str(f) for f in files)}"
                 if files else ", none in a witness file")
    return (f"checkpoints: {report.checkpoints} match the log{witnessed}; the latest, "
            f"signed {latest.time}, covers {latest.events} events up to position "
            f"{latest.position}{ledger}")
