"""Table definitions. Alembic migrations create exactly these (see alembic/versions)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from monitor.store.packing import StoredJSON

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT.
_Position = BigInteger().with_variant(Integer(), "sqlite")

# --- the log: the source of truth ------------------------------------------
events = Table(
    "events",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", StoredJSON, nullable=False),  # a change's packed: monitor.store.packing
    Column("recorded_at", DateTime(timezone=False), nullable=False),  # UTC
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

# The head of each stream: lets `verify` notice a deleted last event.
streams = Table(
    "streams",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
)

# Content-addressed blobs: normalized texts and, where kept, raw fetched bytes.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # "text" | "raw"
    Column("size", Integer, nullable=False),  # uncompressed bytes
    Column("body", LargeBinary, nullable=False),  # compressed as `codec` says
    # "zlib" (rows written before 0003) | "zstd" | "zstd-delta" (zstd with `base` as dictionary)
    Column("codec", String(16), nullable=False, server_default="zlib"),
    Column("base", String(64)),  # sha256 of the blob whose content is the dictionary
    Column("depth", Integer, nullable=False, server_default="0"),  # deltas down to a plain blob
)

# A cache, not part of the record: per source, the key of the page that gave its
# current text (monitor.sources.pagekey). Losing it costs one full extraction per
# source; a row for an older text is ignored.
page_keys = Table(
    "page_keys",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("page_key", String(64), nullable=False),
    # Unix seconds before which no relearning from an unchanged page is tried again
    # (monitor.relearn; migration 0011); NULL: none held.
    Column("relearn_after", BigInteger, nullable=True),
)

# --- the check ledger: one compact row per check (monitor.evidence.ledger) ---
# Not events: an unchanged check must stay cheap. A `ChecksSummarized` event commits to
# the rows (a Merkle root) at each checkpoint, and the checkpoint signs that event.
check_sources = Table(
    "check_sources",
    metadata,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False, unique=True),
)

check_ledger = Table(
    "check_ledger",
    metadata,
    Column("id", _Position, primary_key=True, autoincrement=True),
    Column("source", Integer, nullable=False),  # check_sources.no
    Column("at", BigInteger, nullable=False),  # UTC, seconds since 1970
    Column("status", Integer, nullable=False),  # the HTTP status (0: no answer)
    Column("outcome", Integer, nullable=False),  # 0 unchanged, 1 new version, 2 failed
    Column("version", Integer),  # the document version whose text was read
    Column("raw", LargeBinary),  # sha256 of the body, first 20 bytes; NULL: see ledger.py
    # One source's checks over time (the document page's gaps in checking). Measured on
    # SQLite with 1M rows: reading one source's 100 rows 88 ms without it, 0.2 ms with
    # it; an insert and its commit no slower (the commit dominates); +80% file size.
    Index("ix_check_ledger_source_at", "source", "at"),
)

# --- ephemeral state: not part of the record, not rebuilt, safe to lose -------
# One row per daemon process (`monitor run`), written every few seconds by its
# heartbeat (monitor.heartbeat) and read by `monitor status` (migration 0012). A backup
# may leave it out: a running daemon writes its row again within seconds.
daemon_heartbeats = Table(
    "daemon_heartbeats",
    metadata,
    Column("daemon_id", String(200), primary_key=True),  # host:pid
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", String(32), nullable=False),  # of the program
    Column("started_at", DateTime(timezone=False), nullable=False),  # UTC, as every moment
    Column("beat_at", DateTime(timezone=False), nullable=False),
    Column("beat_every", Integer, nullable=False),  # seconds between two beats
    Column("stopped_at", DateTime(timezone=False)),  # a clean stop; NULL while it runs
    Column("workers", Integer, nullable=False),  # checks at once
    Column("scheduled", Integer, nullable=False),  # sources it schedules
    Column("in_flight", Integer, nullable=False),  # checks under way at the beat
    Column("checks", Integer, nullable=False),  # checks finished since it started
    Column("last_check_at", DateTime(timezone=False)),  # when the last of them finished
)

# --- projections: rebuilt from the log by `monitor rebuild` -----------------
sources = Table(
    "sources",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("language", String(8)),
    Column("selector", Text),
    Column("ignore", JSON, nullable=False),
    Column("volatile", JSON, nullable=False),
    Column("follow", Boolean, nullable=False),
    Column("translation_of", String(200)),
    Column("options", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # active|paused|failing|removed|gone
    Column("stream_version", Integer, nullable=False),
    Column("document_version", Integer, nullable=False),  # number of stored versions
    Column("content_hash", String(64)),
    Column("title", Text),
    Column("published", String(10)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("failures", Integer, nullable=False),  # failures recorded since the last success
    Column("last_failure", Text),
    Column("registered_at", DateTime(timezone=False), nullable=False),
    Column("last_change_at", DateTime(timezone=False)),
    Column("last_event_position", BigInteger, nullable=False),
    Column("raw_hash", String(64)),  # the current version's raw bytes: the next one's base
    # The board's columns (0009): the latest change's significance, and when the current
    # failure streak began (its first FetchFailed; monitor.events.FAILURE_STREAK_ENDS).
    Column("last_significance", String(8)),
    Column("failing_since", DateTime(timezone=False)),
)

versions = Table(
    "versions",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("document_version", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("event_position", BigInteger, nullable=False),
    Column("captured_at", DateTime(timezone=False), nullable=False),
    Column("origin", String(16), nullable=False),  # baseline|captured
    Column("title", Text),
    Column("published", String(10)),
    Column("url", Text),
    Column("raw_hash", String(64)),  # the fetched bytes kept as evidence, if any
    # The search index (monitor/store/search_index.py) names versions by this.
    Index("ix_versions_event_position", "event_position", unique=True),
)

changes = Table(
    "changes",
    metadata,
    Column("event_position", BigInteger, primary_key=True),
    Column("event_id", String(32), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # changed|published|removed
    Column("detected_at", DateTime(timezone=False), nullable=False),
    Column("significance", String(8), nullable=False),
    Column("classes", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("from_version", Integer),
    Column("to_version", Integer),
    Index("ix_changes_stream", "stream_id"),
)

PROJECTION_TABLES = (sources, versions, changes)
