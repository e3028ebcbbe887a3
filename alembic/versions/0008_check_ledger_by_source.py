"""The check ledger indexed by source and time: the document page draws a source's gaps
in checking from its rows, which without it meant reading every source's rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_check_ledger_source_at", "check_ledger", ["source", "at"])


def downgrade() -> None:
    op.drop_index("ix_check_ledger_source_at", table_name="check_ledger")
