"""Checkpoints: a signed statement "the log up to position P is these N events, whose
Merkle root is R, as of time T".

A leaf is the event's canonical bytes: its position, stream, version, previous hash and
hash. The hash already covers everything else stored about the event (its id, type,
data and moment, see monitor.store.eventstore.hash_payload), so the root commits to
the whole log, in order, while the tree is built from five small columns.

The checkpoint's own event (`CheckpointSigned` in the `evidence/checkpoints` stream) is
appended after it has been signed, so it lies after P and is covered by the next one.
Before signing, the log is checked against the previous checkpoint (the witness file's
last line, else the store's): a log that no longer matches it is not signed again.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from monitor.errors import ConcurrencyConflict, IntegrityViolation, PersistenceError
from monitor.events import CheckpointSigned
from monitor.evidence import ledger, merkle, tsa, witness
from monitor.evidence.keys import PublicKey, SigningKey
from monitor.evidence.settings import EvidenceSettings
from monitor.store import EventStore
from monitor.store.mapper import canonical_json
from monitor.store.schema import events

log = logging.getLogger("monitor.evidence")

STREAM = "evidence/checkpoints"  # '/' is never in a source's name, so never a source's stream
MESSAGE_PREFIX = b"govkz-monitor checkpoint v1\n"
LEAF_COLUMNS = (events.c.position, events.c.stream_id, events.c.version, events.c.prev_hash,
                events.c.hash)


@dataclass(frozen=True)
class Checkpoint:
    position: int  # the last event it covers (0: none)
    events: int  # how many events there are up to it
    root: str  # hex
    time: str  # RFC 3339, UTC
    key_id: str
    signature: str  # base64
    previous: int | None = None  # events of the checkpoint before, which `proof` starts from
    proof: tuple[str, ...] = ()  # hex
    tsa_token: str | None = None  # base64 DER: monitor.evidence.tsa (not signed: it stamps)

    def statement(self) -> dict[str, Any]:
        return {"position": self.position, "events": self.events, "root": self.root,
                "time": self.time, "key_id": self.key_id}

    def message(self) -> bytes:
        """The bytes signed: a fixed prefix, then the statement as canonical JSON."""
        return MESSAGE_PREFIX + canonical_json(self.statement()).encode("utf-8")

    def signed_by(self, key: PublicKey) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        return key.verifies(signature, self.message())

    def record(self) -> dict[str, Any]:
        """As the witness file and the event hold it."""
        record = {**self.statement(), "signature": self.signature,
                  "previous": self.previous, "proof": list(self.proof)}
        if self.tsa_token is not None:
            record["tsa_token"] = self.tsa_token
        return record

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time.removesuffix("Z"))

    def same_statement(self, other: Checkpoint) -> bool:
        return self.statement() == other.statement()


def from_record(record: dict[str, Any]) -> Checkpoint:
    """A checkpoint from a witness line or an event's data; ValueError names what is wrong."""
    try:
        checkpoint = Checkpoint(
            position=_int(record["position"]), events=_int(record["events"]),
            root=str(record["root"]), time=str(record["time"]), key_id=str(record["key_id"]),
            signature=str(record["signature"]),
            previous=None if record.get("previous") is None else _int(record["previous"]),
            proof=tuple(str(x) for x in record.get("proof") or ()),
            tsa_token=None if record.get("tsa_token") is None else str(record["tsa_token"]),
        )
        bytes.fromhex(checkpoint.root)
        checkpoint.moment  # noqa: B018 - raises ValueError for a bad time
    except KeyError as exc:
        raise ValueError(f"no {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed ({exc})") from None
    return checkpoint


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def leaf(row: Any) -> bytes:
    """An event's canonical bytes, the Merkle leaf."""
    return canonical_json({"position": row.position, "stream_id": row.stream_id,
                           "version": row.version, "prev_hash": row.prev_hash,
                           "hash": row.hash}).encode("utf-8")


def leaf_rows(conn: Connection, *extra: Any) -> Iterator[Any]:
    """Every event's leaf columns (and `extra` ones), in position order, streamed."""
    query = select(*LEAF_COLUMNS, *extra).order_by(events.c.position)
    yield from conn.execution_options(yield_per=5000).execute(query)


def store_checkpoints(store: EventStore) -> list[tuple[int, Checkpoint | str]]:
    """(event position, the checkpoint or why its data is not one) for each recorded."""
    found: list[tuple[int, Checkpoint | str]] = []
    for event in store.read_stream(STREAM):
        try:
            found.append((event.position, from_record(event.data)))
        except ValueError as exc:
            found.append((event.position, str(exc)))
    return found


def latest_known(store: EventStore, settings: EvidenceSettings) -> Checkpoint | None:
    """The checkpoint the next one must extend: the most events among the witness file's
    last line and the store's last checkpoint."""
    known = [c for _, c in store_checkpoints(store)[-1:] if isinstance(c, Checkpoint)]
    if settings.witness_file.exists():
        for line in reversed(witness.read(settings.witness_file)):
            if line.record is not None:
                with contextlib.suppress(ValueError):
                    known.append(from_record(line.record))
                break
    return max(known, key=lambda c: c.events, default=None)


def take(store: EventStore, key: SigningKey, settings: EvidenceSettings) -> Checkpoint:
    """Sign the log as it is now, record it in the log, then in the witness file."""
    ledger.summarize(store)  # the checks since the last checkpoint, signed with the log
    moment = store.clock()
    previous = latest_known(store, settings)
    with store.engine.connect() as conn:
        rows = [(row.position, merkle.leaf_hash(leaf(row))) for row in leaf_rows(conn)]
    hashed = [h for _, h in rows]
    frontier, prefix = merkle.Frontier(), None
    for leaf_hash in hashed:  # one pass: the root, and the root where `previous` ended
        frontier.add(leaf_hash)
        if previous is not None and frontier.size == previous.events:
            prefix = frontier.root().hex()
    proof: list[bytes] = []
    if previous is not None and previous.events:
        _still_matches(previous, prefix)
        proof = merkle.consistency_proof(hashed, previous.events)
    unsigned = Checkpoint(
        position=rows[-1][0] if rows else 0, events=len(rows),
        root=frontier.root().hex(),
        time=moment.isoformat(timespec="microseconds") + "Z",
        key_id=key.public.key_id, signature="",
        previous=previous.events if previous is not None else None,
        proof=tuple(p.hex() for p in proof),
    )
    signature = base64.b64encode(key.sign(unsigned.message())).decode("ascii")
    checkpoint = Checkpoint(**{**unsigned.__dict__, "signature": signature})
    if settings.tsa_url:
        checkpoint = _stamped(checkpoint, settings.tsa_url)
    event = CheckpointSigned(**{**checkpoint.record(), "proof": checkpoint.proof})
    try:
        store.append(STREAM, store.stream_version(STREAM), [event])
    except ConcurrencyConflict:
        raise PersistenceError("another checkpoint was recorded at the same moment; "
                               "nothing was signed this time") from None
    witness.append(settings.witness_file, checkpoint.record())
    return checkpoint


def _stamped(checkpoint: Checkpoint, url: str) -> Checkpoint:
    """With the TSA's token, or as it is when the TSA gives none (the next asks again)."""
    try:
        token = tsa.stamp(url, checkpoint.message())
    except tsa.TsaUnavailable as exc:
        log.warning("checkpoint made without a timestamp: %s", exc)
        return checkpoint
    return Checkpoint(**{**checkpoint.__dict__, "tsa_token": token})


def _still_matches(previous: Checkpoint, prefix_root: str | None) -> None:
    """`prefix_root`: the log's root over as many events as `previous` counted (None
    when the log now has fewer)."""
    if prefix_root != previous.root:
        raise IntegrityViolation(
            f"the log no longer matches the checkpoint of {previous.time} (position "
            f"{previous.position}, {previous.events} events): not signing it; run "
            "`monitor verify` to see what changed")


def due(store: EventStore, settings: EvidenceSettings) -> bool:
    """Whether the daemon should take a checkpoint now: events other than the last
    checkpoint's own came after it (or checks the ledger has not summarized yet), and
    either `checkpoint_every` has passed since it or `checkpoint_events` events were
    recorded since."""
    recorded = store.read_stream(STREAM, max(1, store.stream_version(STREAM)))
    last = store.last_position()
    if not recorded:
        return last > 0 or ledger.pending(store)
    own = recorded[-1]
    if last <= own.position and not ledger.pending(store):
        return False
    covered = int(own.data.get("position", 0))
    with store.engine.connect() as conn:
        newer = conn.execute(
            select(events.c.position).where(events.c.position > covered)
            .order_by(events.c.position).offset(settings.checkpoint_events).limit(1)
        ).first()
    if newer is not None:
        return True
    age = (store.clock() - own.recorded_at).total_seconds()
    return age >= settings.checkpoint_every
