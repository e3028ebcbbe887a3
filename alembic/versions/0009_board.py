"""The board: each source's latest change significance and the start of its failure
streak in the `sources` projection (a source's last check is found with 0008's index).

The two columns are filled from the log here as `monitor rebuild` would fill them
(monitor/store/projections.py), so an upgraded store equals a rebuilt one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# monitor.events.FAILURE_STREAK_ENDS when this revision was written
_STREAK_ENDS = ("SourceRegistered", "BaselineImported", "VersionCaptured", "SourceRecovered",
                "DocumentRemoved")


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("last_significance", sa.String(8)))
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=False)))
    ends = ", ".join(f"'{name}'" for name in _STREAK_ENDS)
    op.execute(
        "UPDATE sources SET last_significance = (SELECT c.significance FROM changes c "
        "WHERE c.stream_id = sources.stream_id ORDER BY c.event_position DESC LIMIT 1)")
    op.execute(
        "UPDATE sources SET failing_since = (SELECT min(e.recorded_at) FROM events e "
        "WHERE e.stream_id = sources.stream_id AND e.type = 'FetchFailed' AND e.version > "
        "(SELECT coalesce(max(x.version), 0) FROM events x "
        f"WHERE x.stream_id = sources.stream_id AND x.type IN ({ends})))")


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("failing_since")
        batch.drop_column("last_significance")
