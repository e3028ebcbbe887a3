"""Which signed checkpoint first covers an event (monitor.evidence.checkpoints): the
proof, independent of whoever holds the database, that the event was in the log then.

A checkpoint's own event comes after the position it signs, and checkpoints sign ever
later positions, so the first to cover an event is among the first few recorded after
it (another append can slip in between a checkpoint's reading of the log and the
recording of its event). Only the checkpoint events' positions are read in full (an
index-only scan of one stream); the data of a few candidates per event after that.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from monitor.evidence.checkpoints import STREAM, Checkpoint, from_record
from monitor.store.schema import events

CANDIDATES = 3  # checkpoint events looked at after an event


@dataclass(frozen=True)
class Signed:
    checkpoint: Checkpoint
    recorded_at: int  # the position of its CheckpointSigned event
    later: int  # checkpoints recorded after it, each covering the event too


def first_signed(conn: Connection, positions: Iterable[int]) -> dict[int, Signed]:
    """event position -> the first checkpoint that signs it; events no checkpoint
    covers yet are left out."""
    wanted = sorted(set(positions))
    recorded = list(conn.execute(select(events.c.position).where(events.c.stream_id == STREAM)
                                 .order_by(events.c.version)).scalars())
    if not wanted or not recorded:
        return {}
    starts = {p: bisect.bisect_right(recorded, p) for p in wanted}
    candidates = {p: recorded[i:i + CANDIDATES] for p, i in starts.items()}
    needed = sorted({c for found in candidates.values() for c in found})
    statements: dict[int, Checkpoint] = {}
    for row in conn.execute(select(events.c.position, events.c.data)
                            .where(events.c.position.in_(needed))):
        try:
            statements[row.position] = from_record(row.data)
        except ValueError:
            continue  # not a checkpoint the monitor writes: `monitor verify` names it
    found: dict[int, Signed] = {}
    for position, after in candidates.items():
        for offset, at in enumerate(after):
            checkpoint = statements.get(at)
            if checkpoint is not None and checkpoint.position >= position:
                later = len(recorded) - (starts[position] + offset) - 1
                found[position] = Signed(checkpoint, at, later)
                break
    return found
