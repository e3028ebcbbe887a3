"""The log checked against every signed checkpoint in sight: the store's own, the
witness files'. Each checkpoint's signature is checked, the checkpoints against each
other (same position, same statement; counts that only grow; each one's consistency
proof from the one before), and the Merkle root of the stored events recomputed at
every checkpoint's position in one pass over the log.

What breaks is named: events missing or added up to a position, events altered or
reordered (a different root), the last checkpoint the log still matches, an event
dated before a checkpoint that does not contain it, a witness line edited.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from monitor.evidence import merkle, witness
from monitor.evidence.checkpoints import Checkpoint, from_record, leaf, leaf_rows
from monitor.evidence.keys import PublicKey
from monitor.moments import utc_iso
from monitor.store.eventstore import as_datetime
from monitor.store.faults import translated
from monitor.store.schema import events

# An event dated more than this before a checkpoint that does not cover it was added
# after the checkpoint: an append in flight while a checkpoint is taken, or a worker's
# clock slightly behind, stays well within it.
CLOCK_SLACK = timedelta(minutes=5)
MAX_MISDATED = 5  # named one by one; more are counted


@dataclass(frozen=True)
class Seen:
    checkpoint: Checkpoint
    origin: str  # "the store (event at position 57)", "witness var/w.jsonl line 3"
    witnessed: bool


@dataclass
class AuditReport:
    checkpoints: int = 0  # distinct checkpoints the log was compared with
    witnessed: int = 0  # of them, in a witness file
    latest: Checkpoint | None = None
    ledger_rows: int = 0  # check ledger rows recomputed against their summaries
    timestamped: int = 0  # checkpoints whose RFC 3161 token checked out
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def gather(store_found: Sequence[tuple[int, Checkpoint | str]], witness_files: Sequence[Path],
           report: AuditReport) -> list[Seen]:
    seen: list[Seen] = []
    for position, found in store_found:
        origin = f"the store's checkpoint event at position {position}"
        if isinstance(found, str):
            report.problems.append(f"{origin}: {found}")
        else:
            seen.append(Seen(found, origin, False))
    for path in witness_files:
        for line in witness.read(path):
            origin = f"witness {path} line {line.number}"
            if line.record is None:
                report.problems.append(f"{origin}: {line.problem}")
                continue
            try:
                seen.append(Seen(from_record(line.record), origin, True))
            except ValueError as exc:
                report.problems.append(f"{origin}: {exc}")
    return seen


def audit(engine: Engine, seen: list[Seen], key: PublicKey | None,
          report: AuditReport) -> None:
    trusted = _signed(seen, key, report)
    statements = _agreeing(trusted, report)
    _witnessed_in_store(trusted, report)
    report.checkpoints = len(statements)
    report.witnessed = sum(1 for group in statements if any(s.witnessed for s in group))
    if statements:
        report.latest = statements[-1][0].checkpoint
    with translated(engine), engine.connect() as conn:
        _LogPass(statements, report).run(leaf_rows(conn, events.c.recorded_at, events.c.type))


def _signed(seen: list[Seen], key: PublicKey | None, report: AuditReport) -> list[Seen]:
    if key is None:
        if seen:
            report.warnings.append("no public key: the checkpoints' signatures were not "
                                   "checked (pass --public-key FILE)")
        return seen
    good = []
    for s in seen:
        if s.checkpoint.key_id != key.key_id:
            report.problems.append(f"{s.origin}: signed by key {s.checkpoint.key_id}, not by "
                                   f"the key checked against ({key.key_id})")
        elif not s.checkpoint.signed_by(key):
            report.problems.append(f"{s.origin}: the signature does not match the checkpoint "
                                   "(it was altered after signing)")
        else:
            good.append(s)
    return good


def _agreeing(trusted: list[Seen], report: AuditReport) -> list[list[Seen]]:
    """The distinct statements in position order, each with where it was seen;
    disagreements between checkpoints are problems."""
    groups: dict[tuple[int, int, str], list[Seen]] = {}
    for s in trusted:
        c = s.checkpoint
        groups.setdefault((c.position, c.events, c.root), []).append(s)
    ordered = [groups[k] for k in sorted(groups)]
    by_events = {g[0].checkpoint.events: g[0].checkpoint for g in ordered}
    for before, after in itertools.pairwise(ordered):
        a, b = before[0].checkpoint, after[0].checkpoint
        if a.position == b.position or b.events < a.events:
            report.problems.append(
                f"checkpoints disagree: {_where(before)} signed {a.events} events up to "
                f"position {a.position}, {_where(after)} {b.events} up to {b.position}")
    for seen in trusted:  # each copy: the proof is not signed, one may be edited
        c = seen.checkpoint
        old = by_events.get(c.previous) if c.previous else None
        if old is not None and c.proof and not _extends(old, c):
            report.problems.append(
                f"{seen.origin}: its proof that it extends the checkpoint of {old.time} "
                f"({old.events} events) does not hold: the proof was altered, or the log "
                "was rewritten between them")
    return ordered


def _extends(old: Checkpoint, new: Checkpoint) -> bool:
    try:
        proof = [bytes.fromhex(p) for p in new.proof]
    except ValueError:
        return False
    return merkle.verify_consistency(old.events, new.events, bytes.fromhex(old.root),
                                     bytes.fromhex(new.root), proof)


def _witnessed_in_store(trusted: list[Seen], report: AuditReport) -> None:
    stored = {(s.checkpoint.position, s.checkpoint.root) for s in trusted if not s.witnessed}
    for s in trusted:
        if s.witnessed and (s.checkpoint.position, s.checkpoint.root) not in stored:
            report.problems.append(
                f"{s.origin}: the checkpoint of {s.checkpoint.time} is not recorded in the "
                "store (its CheckpointSigned event was removed or altered)")


def _where(group: list[Seen]) -> str:
    origins = [s.origin for s in group]
    return "; ".join(origins[:2]) + (f" and {len(origins) - 2} more" if len(origins) > 2 else "")


class _LogPass:
    """One pass over the events in position order, a Merkle frontier growing on the way:
    at each checkpoint's position the frontier's size and root are the log's."""

    def __init__(self, statements: list[list[Seen]], report: AuditReport) -> None:
        self.statements = statements
        self.report = report
        self.frontier = merkle.Frontier()
        self.next = 0
        self.matched: Checkpoint | None = None  # the last checkpoint the log matches
        self.mismatches = 0
        self.signed_by: datetime | None = None  # the latest moment a passed checkpoint signed
        self.covering: Checkpoint | None = None
        self.misdated = 0

    def run(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self._pass_checkpoints_before(row.position)
            self._check_date(row)
            self.frontier.add(merkle.leaf_hash(leaf(row)))
        self._pass_checkpoints_before(None)
        if self.misdated > MAX_MISDATED:
            self.report.problems.append(f"{self.misdated - MAX_MISDATED} more events are dated "
                                        "before a checkpoint that does not cover them")
        if self.mismatches > 1:
            self.report.problems.append(f"{self.mismatches - 1} later checkpoints do not match "
                                        "the log either")

    def _pass_checkpoints_before(self, position: int | None) -> None:
        while self.next < len(self.statements) and (
                position is None or self.statements[self.next][0].checkpoint.position < position):
            self._compare(self.statements[self.next])
            self.next += 1

    def _compare(self, group: list[Seen]) -> None:
        c = group[0].checkpoint
        if self.signed_by is None or c.moment > self.signed_by:
            self.signed_by, self.covering = c.moment, c
        size, root = self.frontier.size, self.frontier.root().hex()
        if size == c.events and root == c.root:
            self.matched = c
            return
        self.mismatches += 1
        if self.mismatches > 1:
            return
        said = f"the checkpoint of {c.time} ({_where(group)}) signed {c.events} events up to " \
               f"position {c.position}; the log"
        if size < c.events:
            what = f"{said} has {size} there: {c.events - size} missing"
        elif size > c.events:
            what = f"{said} has {size} there: {size - c.events} added afterwards"
        else:
            what = (f"{said}'s events there are not those signed (another Merkle root): "
                    "altered, reordered or replaced")
        if self.matched is not None:
            what += (f"; it still matches the checkpoint of {self.matched.time}, so the "
                     f"change lies after position {self.matched.position}")
        self.report.problems.append(what)

    def _check_date(self, row: Any) -> None:
        if self.signed_by is None or self.covering is None:
            return
        recorded = as_datetime(row.recorded_at)
        if recorded < self.signed_by - CLOCK_SLACK:
            self.misdated += 1
            if self.misdated > MAX_MISDATED:
                return
            c = self.covering
            self.report.problems.append(
                f"stream {row.stream_id!r} event {row.version} (position "
                f"{row.position}) is dated {utc_iso(recorded)}, before "
                f"the checkpoint of {c.time}, which covers positions up to {c.position} and "
                "not this one: it was added afterwards (or by a clock over 5 minutes behind)")
