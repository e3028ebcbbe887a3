"""Page keys: when a source may next try to learn noise from an unchanged page.

A check whose page key missed on an unchanged page compares the stored page with this
load (monitor.relearn); on a big page that costs a few hundred milliseconds. When it
finds nothing that can be masked, the attempt is held off until `relearn_after` (Unix
seconds), kept here so that a `monitor check --all` run from cron, a new process each
time, does not pay for it on every pass. A cache column, like the rest of the table:
losing it costs one more attempt.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("page_keys") as batch:
        batch.add_column(sa.Column("relearn_after", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page_keys") as batch:
        batch.drop_column("relearn_after")
