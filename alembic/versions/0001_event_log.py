"""The event log, stream heads, blobs and the first projections.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.guard import refuse_to_drop

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", POSITION, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    op.create_table(
        "streams",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("selector", sa.Text),
        sa.Column("ignore", sa.JSON, nullable=False),
        sa.Column("volatile", sa.JSON, nullable=False),
        sa.Column("follow", sa.Boolean, nullable=False),
        sa.Column("translation_of", sa.String(200)),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("title", sa.Text),
        sa.Column("published", sa.String(10)),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure", sa.Text),
        sa.Column("registered_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("last_change_at", sa.DateTime(timezone=False)),
        sa.Column("last_event_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("document_version", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("event_position", sa.BigInteger, nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("published", sa.String(10)),
        sa.Column("url", sa.Text),
    )
    op.create_table(
        "changes",
        sa.Column("event_position", sa.BigInteger, primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("significance", sa.String(8), nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
    )
    op.create_index("ix_changes_stream", "changes", ["stream_id"])


def downgrade() -> None:
    refuse_to_drop(op.get_bind(), {"events": "the event log",
                                   "streams": "the log's stream heads",
                                   "blobs": "stored texts and fetched bytes"}, revision)
    op.drop_index("ix_changes_stream", table_name="changes")
    for table in ("changes", "versions", "sources", "blobs", "streams", "events"):
        op.drop_table(table)
