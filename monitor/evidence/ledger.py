"""The check ledger: proof of the quiet hours.

Every check leaves one compact row (`check_ledger`): when, the HTTP status, whether it
found the text unchanged, a new version or a failure, the document version whose text
it read, and the hash of the body it was answered. An unchanged check stays cheap:

- the text hash is not stored: it is the content hash of the version the row names;
- the body's hash is not stored when it is the version's kept raw page (`raw` NULL);
  otherwise its first 20 bytes (160 bits of SHA-256) are;
- the source is a small number (`check_sources`), the time whole seconds.

Rows are not events. Before each checkpoint (`checkpoints.take`) the rows added since
the last one are summarized in one `ChecksSummarized` event (stream `evidence/checks`):
their count, first and last time, the RFC 6962 Merkle root over their leaves and a
two-byte tag per leaf. The checkpoint then signs that event, so every check up to it is
covered; `verify` recomputes each summary's root from the rows and names the row
whose tag no longer matches.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import calendar
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from monitor.errors import ConcurrencyConflict
from monitor.events import ChecksSummarized
from monitor.evidence import merkle
from monitor.store import EventStore
from monitor.store.database import WRITE
from monitor.store.eventstore import Write
from monitor.store.faults import translated
from monitor.store.mapper import canonical_json
from monitor.store.schema import check_ledger, check_sources, versions

_INSERT = insert(check_ledger)  # built once: a check's row is the hot path's insert
STREAM = "evidence/checks"
RAW_BYTES = 20
UNCHANGED, NEW_VERSION, FAILED = 0, 1, 2
OUTCOME_NAMES = {UNCHANGED: "unchanged", NEW_VERSION: "new version", FAILED: "failed"}
OUTCOMES = {"unchanged": UNCHANGED, "captured": NEW_VERSION, "changed": NEW_VERSION,
            "published": NEW_VERSION, "failed": FAILED, "removed": FAILED, "error": FAILED}
TAG_BYTES = 2
MAX_NAMED = 5


def seconds(moment: datetime) -> int:
    """A naive UTC moment as whole seconds since 1970."""
    return calendar.timegm(moment.utctimetuple())


def moment(at: int) -> datetime:
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None)


def iso(at: int) -> str:
    return moment(at).isoformat() + "Z"


class Ledger:
    """Appends check rows; remembers each source's number."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._numbers: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, stream_id: str, at: datetime, status: int, outcome: int,
               version: int | None, raw: bytes | None) -> None:
        """Write the row in a transaction of its own."""
        write = self.row(stream_id, at, status, outcome, version, raw)
        with translated(self.engine), \
                self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            write(conn)

    def row(self, stream_id: str, at: datetime, status: int, outcome: int,
            version: int | None, raw: bytes | None) -> Write:
        """The row's insert, for the caller's write transaction (a check's: with its
        events, monitor.check). The source's number is taken now: a source checked for
        the first time is numbered in a transaction of its own, once."""
        with translated(self.engine):
            number = self._number(stream_id)
        values = {"source": number, "at": seconds(at), "status": status,
                  "outcome": outcome, "version": version, "raw": raw}

        def write(conn: Connection) -> None:
            conn.execute(_INSERT, values)

        return write

    def _number(self, stream_id: str) -> int:
        with self._lock:
            if not self._numbers:  # the first check of this process: every number at once
                with self.engine.connect() as conn:
                    self._numbers.update(
                        (row.stream_id, row.no) for row in conn.execute(
                            select(check_sources.c.stream_id, check_sources.c.no)))
            known = self._numbers.get(stream_id)
        if known is not None:
            return known
        query = select(check_sources.c.no).where(check_sources.c.stream_id == stream_id)
        with self.engine.connect() as conn:
            number = conn.execute(query).scalar()
        if number is None:
            dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
            numbered = dialect.insert(check_sources).values(stream_id=stream_id)
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                # another checker may have numbered it first
                conn.execute(numbered.on_conflict_do_nothing(index_elements=["stream_id"]))
                number = conn.execute(query).scalar_one()
        with self._lock:
            self._numbers[stream_id] = number
        return number


def raw_column(body: bytes | None, version_raw: str | None) -> bytes | None:
    """What the row keeps of a body: nothing when it is the version's kept raw page
    (or there was none), else its hash's first RAW_BYTES bytes."""
    if not body:
        return None
    digest = hashlib.sha256(body).digest()
    if version_raw is not None and digest.hex() == version_raw:
        return None
    return digest[:RAW_BYTES]


@dataclass(frozen=True)
class CheckLine:
    id: int
    stream_id: str | None
    at: int
    status: int
    outcome: int
    version: int | None
    text_hash: str | None  # full, from the version
    raw_hash: str | None  # full (the version's raw) or the stored 40-hex prefix
    raw_stored: bool

    def leaf(self) -> bytes:
        return canonical_json({"id": self.id, "source": self.stream_id, "at": self.at,
                               "status": self.status, "outcome": self.outcome,
                               "version": self.version, "text": self.text_hash,
                               "raw": self.raw_hash}).encode("utf-8")

    @property
    def outcome_name(self) -> str:
        return OUTCOME_NAMES.get(self.outcome, f"outcome {self.outcome}")

    def named(self) -> str:
        return f"check ledger row {self.id} ({self.stream_id or '?'}, {iso(self.at)})"


def lines(conn: Connection, after: int = 0, last: int | None = None, *,
          stream_id: str | None = None, since: int | None = None,
          until: int | None = None) -> Iterator[CheckLine]:
    """The ledger's rows in id order with their derived hashes."""
    led = check_ledger.c
    query = (select(led.id, check_sources.c.stream_id, led.at, led.status, led.outcome,
                    led.version, led.raw, versions.c.content_hash, versions.c.raw_hash)
             .select_from(check_ledger
                          .outerjoin(check_sources, check_sources.c.no == led.source)
                          .outerjoin(versions, and_(
                              versions.c.stream_id == check_sources.c.stream_id,
                              versions.c.document_version == led.version)))
             .where(led.id > after).order_by(led.id))
    if last is not None:
        query = query.where(led.id <= last)
    if stream_id is not None:  # by its number: the ledger has no index but its ids
        number = select(check_sources.c.no).where(check_sources.c.stream_id == stream_id)
        query = query.where(led.source == number.scalar_subquery())
    if since is not None:
        query = query.where(led.at >= since)
    if until is not None:
        query = query.where(led.at <= until)
    for row in conn.execution_options(yield_per=5000).execute(query):
        if row.raw is not None:
            raw: str | None = bytes(row.raw).hex()
        elif row.outcome != FAILED and row.status != 304:
            raw = row.raw_hash
        else:
            raw = None
        yield CheckLine(row.id, row.stream_id, row.at, row.status, row.outcome, row.version,
                        row.content_hash if row.version is not None else None, raw,
                        row.raw is not None)


# --- summaries ---------------------------------------------------------------
def summaries(store: EventStore) -> list[tuple[int, dict[str, Any]]]:
    return [(e.position, e.data) for e in store.read_stream(STREAM)]


def summarize(store: EventStore) -> ChecksSummarized | None:
    """One ChecksSummarized for the rows since the last (None: no new rows)."""
    recorded = store.read_stream(STREAM, max(1, store.stream_version(STREAM)))
    after = int(recorded[-1].data["last"]) if recorded else 0
    with translated(store.engine), store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Ids are handed out before commit: wait for the inserts in flight, so no
            # row committed a moment late falls inside the range summarized.
            conn.execute(text("LOCK TABLE check_ledger IN SHARE MODE"))
        found = list(lines(conn, after))
    if not found:
        return None
    hashes = [merkle.leaf_hash(line.leaf()) for line in found]
    event = ChecksSummarized(
        after=after, last=found[-1].id, checks=len(found),
        sources=len({line.stream_id for line in found}),
        first_at=iso(min(line.at for line in found)),
        last_at=iso(max(line.at for line in found)),
        root=merkle.root(hashes).hex(),
        tags=base64.b64encode(b"".join(h[:TAG_BYTES] for h in hashes)).decode("ascii"))
    try:
        store.append(STREAM, store.stream_version(STREAM), [event])
    except ConcurrencyConflict:  # another checkpoint summarized them at the same moment
        return None
    return event


def pending(store: EventStore) -> bool:
    """Whether rows were added since the last summary."""
    recorded = store.read_stream(STREAM, max(1, store.stream_version(STREAM)))
    after = int(recorded[-1].data["last"]) if recorded else 0
    with translated(store.engine), store.engine.connect() as conn:
        return conn.execute(select(check_ledger.c.id).where(check_ledger.c.id > after)
                            .limit(1)).first() is not None


def audit_ledger(store: EventStore) -> tuple[list[str], int]:
    """Each summary's root recomputed from the rows: (problems, rows checked)."""
    problems: list[str] = []
    checked, previous_last = 0, 0
    with translated(store.engine), store.engine.connect() as conn:
        for position, data in summaries(store):
            origin = f"the checks summary at position {position}"
            try:
                after, last, count = int(data["after"]), int(data["last"]), int(data["checks"])
                root = bytes.fromhex(str(data["root"]))
                tags = base64.b64decode(str(data.get("tags", "")), validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error):
                problems.append(f"{origin}: not a summary the monitor writes")
                continue
            if after != previous_last:
                problems.append(f"{origin} starts after row {after}, the summary before it "
                                f"ended at row {previous_last}")
            previous_last = last
            found = list(lines(conn, after, last))
            checked += len(found)
            hashes = [merkle.leaf_hash(line.leaf()) for line in found]
            if len(found) == count and merkle.root(hashes) == root:
                continue
            problems += _named(origin, data, found, hashes, tags, count)
    return problems, checked


def _named(origin: str, data: dict[str, Any], found: list[CheckLine], hashes: list[bytes],
           tags: bytes, count: int) -> list[str]:
    said = (f"{origin} ({count} checks, rows {int(data['after']) + 1}-{data['last']}, "
            f"{data.get('first_at')} to {data.get('last_at')})")
    named = []
    for index, (line, hashed) in enumerate(zip(found, hashes, strict=True)):
        tag = tags[index * TAG_BYTES:(index + 1) * TAG_BYTES]
        if hashed[:TAG_BYTES] != tag:
            named.append(f"{line.named()} is not the check {said} committed to: altered, "
                         "or rows before it were added or removed")
            if len(named) == MAX_NAMED:
                break
    if len(found) != count:
        named.insert(0, f"{said}: the ledger holds {len(found)} rows there: "
                        f"{abs(count - len(found))} {'missing' if len(found) < count else 'added'}")
    if not named:
        named.append(f"{said}: the rows there no longer give its Merkle root (altered)")
    return named


@dataclass(frozen=True)
class Coverage:
    """Which rows are summarized, and which of those a checkpoint has signed."""

    ranges: list[tuple[int, int, int]]  # (after, last, summary event position), in order
    signed_up_to: int  # the latest checkpoint's position (0: none)

    def of(self, row_id: int) -> str:
        at = bisect.bisect_left(self.ranges, row_id, key=lambda r: r[1])
        if at == len(self.ranges) or not self.ranges[at][0] < row_id:
            return "pending"
        return "signed" if self.ranges[at][2] <= self.signed_up_to else "summarized"


def coverage(store: EventStore, checkpoint_stream: str) -> Coverage:
    ranges = []
    for position, data in summaries(store):
        try:
            ranges.append((int(data["after"]), int(data["last"]), position))
        except (KeyError, TypeError, ValueError):
            continue
    signed = 0
    for event in store.read_stream(checkpoint_stream):
        covered = event.data.get("position")
        if isinstance(covered, int):
            signed = max(signed, covered)
    return Coverage(ranges, signed)
