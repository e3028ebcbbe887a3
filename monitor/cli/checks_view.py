"""`monitor history NAME --checks`: the source's rows of the check ledger, one a line:
when, the HTTP status, unchanged / new version / failed, the text's and the body's
hashes, and whether a signed checkpoint covers the row yet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from monitor.cli.context import echo_json
from monitor.evidence import ledger
from monitor.evidence.checkpoints import STREAM as CHECKPOINTS
from monitor.moments import human, utc_iso
from monitor.report.filters import parse_since, parse_until
from monitor.store import EventStore
from monitor.store.rows import SourceRow
from monitor.untrusted import one_line

COVERED = {"signed": "signed", "summarized": "summarized, not signed yet",
           "pending": "not in a checkpoint yet"}


def show_checks(store: EventStore, row: SourceRow, since: str | None, until: str | None,
                fmt: str, zone: str) -> None:
    """`zone`: the IANA timezone of the text's times."""
    now = datetime.now(UTC).replace(tzinfo=None)
    start = ledger.seconds(parse_since(since, now)) if since else None
    end = ledger.seconds(parse_until(until)) - 1 if until else None  # --until is exclusive
    covered = ledger.coverage(store, CHECKPOINTS)
    with store.engine.connect() as conn:
        found = list(ledger.lines(conn, stream_id=row.stream_id, since=start, until=end))
    if fmt == "json":
        echo_json({"source": row.name, "checks": [_json(line, covered) for line in found]})
        return
    click.echo(f"{one_line(row.name)}: {len(found)} check{'s' * (len(found) != 1)}")
    for line in found:
        click.echo("  " + _text(line, covered, zone))


def _raw(line: ledger.CheckLine) -> str:
    if line.raw_hash is None:
        return "no body" if line.status == 304 or line.outcome == ledger.FAILED else "raw ?"
    return f"raw sha256:{line.raw_hash}" + ("…" if line.raw_stored else "")


def _text(line: ledger.CheckLine, covered: ledger.Coverage, zone: str) -> str:
    when = human(ledger.moment(line.at), zone, seconds=True)
    status = str(line.status) if line.status else "-"
    text = (f"v{line.version} text sha256:{line.text_hash}" if line.text_hash
            else "no text")
    return (f"{when}  {status:>3}  {line.outcome_name:<11}  {text}  {_raw(line)}  "
            f"[{COVERED[covered.of(line.id)]}]")


def _json(line: ledger.CheckLine, covered: ledger.Coverage) -> dict[str, Any]:
    return {"row": line.id, "checked_at": utc_iso(ledger.moment(line.at)),
            "status": line.status or None,
            "outcome": line.outcome_name, "version": line.version,
            "text_sha256": line.text_hash, "raw_sha256": line.raw_hash,
            "raw_sha256_bits": 8 * ledger.RAW_BYTES if line.raw_stored else (
                256 if line.raw_hash else None),
            "covered": covered.of(line.id)}
