"""Full-text search over every stored version (monitor/store/search_index.py): an FTS5
table on SQLite, a tsvector table with a GIN index on PostgreSQL, filled here from the
versions the store already holds, so an upgraded store is searchable at once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

from monitor.store import search_index

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_versions_event_position", "versions", ["event_position"], unique=True)
    bind = op.get_bind()
    search_index.create(bind)
    search_index.fill(bind)


def downgrade() -> None:
    search_index.drop(op.get_bind())
    op.drop_index("ix_versions_event_position", "versions")
