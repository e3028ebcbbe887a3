"""The append-only event log with optimistic concurrency and a per-stream hash chain."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from monitor.errors import ConcurrencyConflict, ConstraintViolated, DataRejected, PersistenceError
from monitor.events import Event
from monitor.store.database import WRITE, busy_timeout, open_engine, serialize_appends
from monitor.store.faults import store_error, translated
from monitor.store.mapper import StoredEvent, canonical_json, to_data
from monitor.store.packing import pack
from monitor.store.schema import events, streams
from monitor.store.snapshots import Blob, encode_blobs, insert_blobs

# The constraints that say another writer took the stream's next version first (as
# PostgreSQL names them, and as SQLite's message lists their columns).
STREAM_VERSION_CONSTRAINTS = frozenset({
    "uq_events_stream_version", "streams_pkey",
    "events.stream_id, events.version", "streams.stream_id",
})

# Called inside the append transaction with the rows just written: projections,
# outbox rows. If one raises, nothing of the append is kept.
Projector = Callable[[Connection, Sequence[StoredEvent]], None]

# What a caller writes with its events, in their transaction after the projectors
# (a check's ledger row and page key: monitor.check): kept or lost with them, under
# one write lock.
Write = Callable[[Connection], None]


# Built once, the values bound per execution: a statement's .values() cost more CPU
# than its execution on the hot path (a check's append).
_NEW_EVENT = insert(events).returning(events.c.position)
_NEW_STREAM = insert(streams)
_MOVE_HEAD = (update(streams)
              .where(streams.c.stream_id == bindparam("id"), streams.c.version == bindparam("was"))
              .values(version=bindparam("to_version"), head_hash=bindparam("to_hash")))


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def hash_payload(
    event_id: str,
    stream_id: str,
    version: int,
    type_: str,
    schema_version: int,
    data: dict[str, Any],
    recorded_at: datetime,
) -> dict[str, Any]:
    """What the hash covers: everything stored about the event except its position."""
    return {
        "event_id": event_id,
        "stream_id": stream_id,
        "version": version,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "recorded_at": recorded_at.isoformat(timespec="microseconds"),
    }


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


Clock = Callable[[], datetime]  # UTC, naive: what `recorded_at` holds


class EventStore:
    def __init__(self, engine: Engine, projectors: Sequence[Projector] = (),
                 clock: Clock = utcnow) -> None:
        self.engine = engine
        self.projectors = list(projectors)
        self.clock = clock

    @classmethod
    def open(cls, url: str, projectors: Sequence[Projector] = (), *, read_only: bool = False,
             clock: Clock = utcnow, threads: int | None = None) -> EventStore:
        return cls(open_engine(url, read_only=read_only, threads=threads), projectors, clock)

    def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        *,
        blobs: Sequence[Blob] = (),
        also: Sequence[Write] = (),
    ) -> list[StoredEvent]:
        """Append events atomically, or raise and write nothing: ConcurrencyConflict when
        another writer took the stream's next version, another PersistenceError (never a
        driver's exception) when the database refuses. `also`: the caller's writes, in
        the same transaction (with no events, `write` runs them alone)."""
        if not new_events:
            self.write(also)
            return []
        try:
            encoded: list[dict[str, Any]] = []
            if blobs:  # compressing is slow next to an insert: not under the write lock
                with self.engine.connect() as conn:
                    encoded = encode_blobs(conn, blobs)
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                serialize_appends(conn)
                current, head = self._head(conn, stream_id)
                if current != expected_version:
                    raise ConcurrencyConflict(stream_id, expected_version, current)
                stored = self._insert(conn, stream_id, current, head, new_events)
                insert_blobs(conn, encoded)
                self._move_head(conn, stream_id, current, stored[-1])
                for project in self.projectors:
                    project(conn, stored)
                for write in also:
                    write(conn)
                return stored
        except DBAPIError as exc:
            error = self.error(exc)
            if isinstance(error, ConstraintViolated) and (
                error.constraint in STREAM_VERSION_CONSTRAINTS
            ):
                raise ConcurrencyConflict(stream_id, expected_version) from None
            field = _out_of_range(new_events) if isinstance(error, DataRejected) else None
            if field:
                raise DataRejected(f"{error} (the number in {field} is too big)") from exc
            raise error from exc
        except (OverflowError, ValueError, TypeError) as exc:
            # The driver raises these while binding (sqlite3: "Python int too large to
            # convert to SQLite INTEGER"), outside the DB-API tree: a refused value too.
            field = _out_of_range(new_events)
            what = f"the number in {field} is too big" if field else _one_line(exc)
            raise DataRejected(f"the database refused a value ({what}); nothing was "
                               "written") from exc

    def write(self, writes: Sequence[Write]) -> None:
        """Run `writes` in one write transaction (no event): all of them or, raising a
        PersistenceError, none."""
        if not writes:
            return
        with translated(self.engine), \
                self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            for write in writes:
                write(conn)

    def append_many(self, appends: Sequence[tuple[str, int, Sequence[Event]]]
                    ) -> list[StoredEvent]:
        """Many streams' appends, (stream id, expected version, events) each, in one
        transaction: all of them, or (raising as `append` does) none. Each stream's
        events are chained and checked exactly as `append` does; the projectors see
        every stored event once, in position order. For writing many at once (`monitor
        add` of a long list): one commit, and one multi-row insert per table."""
        appends = [(stream_id, expected, list(new)) for stream_id, expected, new in appends
                   if new]
        if not appends:
            return []
        streams_seen = [stream_id for stream_id, _, _ in appends]
        if len(set(streams_seen)) != len(streams_seen):
            raise ValueError("append_many: a stream may appear once")
        try:
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                serialize_appends(conn)
                heads = self._heads(conn, streams_seen)
                rows: list[dict[str, Any]] = []
                for stream_id, expected, new in appends:
                    current, head = heads.get(stream_id, (0, ""))
                    if current != expected:
                        raise ConcurrencyConflict(stream_id, expected, current)
                    rows += self._rows(stream_id, current, head, new)
                positions = conn.execute(
                    insert(events).returning(events.c.position, sort_by_parameter_order=True),
                    [_packed(row) for row in rows],
                ).scalars().all()
                stored = [StoredEvent(position=p, **row) for p, row in zip(positions, rows,
                                                                           strict=True)]
                last = {event.stream_id: event for event in stored}
                fresh = [{"stream_id": s, "version": e.version, "head_hash": e.hash}
                         for s, e in last.items() if heads.get(s, (0, ""))[0] == 0]
                if fresh:
                    conn.execute(insert(streams), fresh)
                for stream_id, event in last.items():
                    current = heads.get(stream_id, (0, ""))[0]
                    if current:
                        self._move_head(conn, stream_id, current, event)
                for project in self.projectors:
                    project(conn, stored)
                return stored
        except DBAPIError as exc:
            error = self.error(exc)
            if isinstance(error, ConstraintViolated) and (
                error.constraint in STREAM_VERSION_CONSTRAINTS
            ):
                raise ConcurrencyConflict(streams_seen[0], appends[0][1]) from None
            raise error from exc
        except (OverflowError, ValueError, TypeError) as exc:
            every = [event for _, _, new in appends for event in new]
            field = _out_of_range(every)
            what = f"the number in {field} is too big" if field else _one_line(exc)
            raise DataRejected(f"the database refused a value ({what}); nothing was "
                               "written") from exc

    def _heads(self, conn: Connection, stream_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """(version, head hash) of those of `stream_ids` that exist."""
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(stream_ids), _IN_BATCH):
            chunk = stream_ids[start:start + _IN_BATCH]
            for row in conn.execute(select(streams.c.stream_id, streams.c.version,
                                           streams.c.head_hash)
                                    .where(streams.c.stream_id.in_(chunk))):
                found[row.stream_id] = (row.version, row.head_hash)
        return found

    def error(self, exc: DBAPIError) -> PersistenceError:
        """The store's own error for a driver error met on this store."""
        return store_error(exc, self.engine.url, busy_timeout(self.engine))

    def _head(self, conn: Connection, stream_id: str) -> tuple[int, str]:
        row = conn.execute(
            select(streams.c.version, streams.c.head_hash).where(streams.c.stream_id == stream_id)
        ).first()
        return (0, "") if row is None else (row.version, row.head_hash)

    def _insert(
        self,
        conn: Connection,
        stream_id: str,
        current: int,
        prev_hash: str,
        new_events: Sequence[Event],
    ) -> list[StoredEvent]:
        stored = []
        for row in self._rows(stream_id, current, prev_hash, new_events):
            position = conn.execute(_NEW_EVENT, _packed(row)).scalar_one()
            stored.append(StoredEvent(position=position, **row))
        return stored

    def _rows(self, stream_id: str, current: int, prev_hash: str,
              new_events: Sequence[Event]) -> list[dict[str, Any]]:
        """The `events` rows of appending `new_events` to a stream at version `current`
        whose head hash is `prev_hash`: each chained to the one before."""
        rows = []
        for offset, event in enumerate(new_events, start=1):
            event_id = uuid.uuid4().hex
            version = current + offset
            data = to_data(event)
            _refuse_nul(stream_id, event.type, data)
            recorded_at = self.clock()
            payload = hash_payload(
                event_id, stream_id, version, event.type, event.schema_version, data, recorded_at
            )
            digest = chain_hash(prev_hash, payload)
            rows.append({
                "event_id": event_id, "stream_id": stream_id, "version": version,
                "type": event.type, "schema_version": event.schema_version, "data": data,
                "recorded_at": recorded_at, "prev_hash": prev_hash, "hash": digest,
            })
            prev_hash = digest
        return rows

    def _move_head(self, conn: Connection, stream_id: str, current: int, last: StoredEvent) -> None:
        if current == 0:
            conn.execute(_NEW_STREAM, {"stream_id": stream_id, "version": last.version,
                                       "head_hash": last.hash})
            return
        moved = conn.execute(_MOVE_HEAD, {"id": stream_id, "was": current,
                                          "to_version": last.version, "to_hash": last.hash})
        if moved.rowcount != 1:
            raise ConcurrencyConflict(stream_id, current)

    # --- reading ---------------------------------------------------------
    def read_stream(self, stream_id: str, from_version: int = 1) -> list[StoredEvent]:
        query = (
            select(events)
            .where(events.c.stream_id == stream_id, events.c.version >= from_version)
            .order_by(events.c.version)
        )
        return self._select(query)

    def read_all(self, since_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        query = select(events).where(events.c.position > since_position).order_by(events.c.position)
        if limit is not None:
            query = query.limit(limit)
        return self._select(query)

    def iter_all(self, since_position: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        while True:
            rows = self.read_all(since_position, limit=batch)
            yield from rows
            if len(rows) < batch:
                return
            since_position = rows[-1].position

    def stream_version(self, stream_id: str) -> int:
        with self._reading() as conn:
            return self._head(conn, stream_id)[0]

    def last_position(self) -> int:
        with self._reading() as conn:
            last = conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar()
        return int(last or 0)

    def types_since(self, position: int, types: Iterable[str]) -> tuple[int, bool]:
        """(the log's last position, whether an event of `types` came after `position`),
        without reading any event's data: what a follower needs to notice a change."""
        with self._reading() as conn:
            last = conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar()
            hit = conn.execute(
                select(events.c.position)
                .where(events.c.position > position, events.c.type.in_(list(types))).limit(1)
            ).first()
        return int(last or 0), hit is not None

    def streak(self, stream_id: str, event_type: str,
               ends: Iterable[str]) -> tuple[datetime, datetime] | None:
        """When the stream's run of `event_type` events since the last event of an `ends`
        type was first and last recorded (UTC); None when the run is empty."""
        in_stream = events.c.stream_id == stream_id
        with self._reading() as conn:
            last_end = select(func.coalesce(func.max(events.c.version), 0)).where(
                in_stream, events.c.type.in_(list(ends))).scalar_subquery()
            first, last = conn.execute(
                select(func.min(events.c.recorded_at), func.max(events.c.recorded_at))
                .where(in_stream, events.c.type == event_type, events.c.version > last_end)
            ).one()
        if first is None or last is None:
            return None
        return as_datetime(first), as_datetime(last)

    def _select(self, query: Any) -> list[StoredEvent]:
        with self._reading() as conn:
            return [_to_stored(row) for row in conn.execute(query)]

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A read connection whose driver errors come out as our errors."""
        with translated(self.engine), self.engine.connect() as conn:
            yield conn


def _refuse_nul(stream_id: str, event_type: str, data: dict[str, Any]) -> None:
    """PostgreSQL cannot store a NUL character in text, SQLite can: refuse it in both,
    with a message that says where it is, so a log always moves between the two."""
    where = "the stream id" if "\x00" in stream_id else _nul_path(data, "data")
    if where is not None:
        raise DataRejected(f"{event_type} for stream {stream_id!r}: {where} holds a NUL "
                           "character (0x00), which the store does not accept; nothing "
                           "was written")


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_path(key, f"{path} key") or _nul_path(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _to_stored(row: Any) -> StoredEvent:
    return StoredEvent(
        position=row.position,
        event_id=row.event_id,
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        recorded_at=row.recorded_at,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def as_datetime(value: Any) -> datetime:
    # SQLite hands back aggregates over DateTime columns as text.
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


_INT64 = 2**63
_IN_BATCH = 500  # ids in one IN (…): under SQLite's limit of bound parameters


def _out_of_range(new_events: Sequence[Event]) -> str | None:
    """`Type.field` of the first integer a 64-bit column cannot hold, if any."""
    for event in new_events:
        for key, value in to_data(event).items():
            if isinstance(value, int) and not -_INT64 <= value < _INT64:
                return f"{event.type}.{key}"
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _packed(row: dict[str, Any]) -> dict[str, Any]:
    """An event row as stored: its data packed (monitor.store.packing) where the type is
    packed; the row itself, and the StoredEvent made from it, keep the data as recorded."""
    return {**row, "data": pack(row["type"], row["data"])}
