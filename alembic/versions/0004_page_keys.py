"""The page-key cache: lets a check skip the extraction of an unchanged page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_keys",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("page_key", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("page_keys")
