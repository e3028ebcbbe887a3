"""The check ledger: one compact row per check, summarized into the log at checkpoints.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "check_sources",
        sa.Column("no", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stream_id", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "check_ledger",
        sa.Column("id", _Position, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("raw", sa.LargeBinary, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("check_ledger")
    op.drop_table("check_sources")
