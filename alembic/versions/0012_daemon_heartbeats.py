"""Daemon heartbeats: one row per `monitor run` process, rewritten every few seconds,
so that `monitor status` (another process, perhaps on another machine) can say whether
a daemon runs, since when, and how busy it is.

Ephemeral state, not part of the record: nothing is derived from the log, `monitor
rebuild` leaves it alone and a backup may skip it (a running daemon writes its row
again within seconds).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemon_heartbeats",
        sa.Column("daemon_id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("beat_every", sa.Integer(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=False)),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("scheduled", sa.Integer(), nullable=False),
        sa.Column("in_flight", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("last_check_at", sa.DateTime(timezone=False)),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeats")
