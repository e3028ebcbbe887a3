"""The alert outbox tables, on the store's shared metadata.

These are operational tables, not projections: they record what was sent, so
`monitor rebuild` leaves them alone. Alembic creates exactly these
(alembic/versions/0002_alert_outbox.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from monitor.store.schema import metadata

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT.
_Id = BigInteger().with_variant(Integer(), "sqlite")

# 'confirming': held until the change is re-checked (monitor.alerts.confirmation);
# 'dropped': settled without a message (a change that reverted, by the channel's policy);
# 'held': waiting for its digest period to end; 'digested': sent inside a digest delivery.
STATES = ("pending", "sending", "retrying", "delivered", "dead", "confirming", "dropped",
          "held", "digested")

# One row per alert per channel. `alert_id` is what receivers see (webhook-id,
# Message-ID, payload id): derived from event_id + channel, so a resend after
# a crash carries the same id and the receiver can drop the duplicate.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=False, unique=True),
    Column("event_position", BigInteger, nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # changed|reverted|published|removed|failing|digest
    Column("summary", Text, nullable=False),
    Column("state", String(16), nullable=False),  # see STATES
    Column("attempts", Integer, nullable=False),  # attempts whose outcome was recorded
    # When the row is due: the next try, or for 'sending' the end of the claim's
    # lease (a dispatcher that died mid-send leaves the row to be taken again then).
    Column("next_attempt_at", DateTime(timezone=False), nullable=False),  # UTC
    Column("claim_token", String(32)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("delivered_at", DateTime(timezone=False)),
    # A digest channel's alerts are 'held' (next_attempt_at: the end of their period),
    # then 'digested' into one delivery of kind 'digest', whose alert_id this is
    # (monitor/alerts/digest.py; alembic/versions/0005_digests.py).
    Column("digest_id", String(64)),
    # UNIQUE(event_id, channel): one alert per event per channel, whoever enqueues it.
    Index("uq_deliveries_event_channel", "event_id", "channel", unique=True),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_digest", "digest_id"),
)

# How far each dispatcher has read the log; moved in the same transaction as
# the delivery rows it creates.
dispatch_positions = Table(
    "dispatch_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
