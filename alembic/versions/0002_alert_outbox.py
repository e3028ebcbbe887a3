"""The alert outbox: deliveries and the dispatchers' log positions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_position", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=False)),
    )
    op.create_index("uq_deliveries_event_channel", "deliveries", ["event_id", "channel"],
                    unique=True)
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "dispatch_positions",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatch_positions")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_index("uq_deliveries_event_channel", table_name="deliveries")
    op.drop_table("deliveries")
