"""Blobs as zstd deltas on a base blob; the raw hash of each version in the projections.

Existing blobs keep codec 'zlib' and read as before. `versions.raw_hash` and
`sources.raw_hash` are filled from the log here, as `monitor rebuild` would.
Downgrading rewrites every zstd blob as zlib, so the 0002 code can read the store.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import zlib

import sqlalchemy as sa
import zstandard
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 2000

events = sa.table("events", sa.column("position", sa.BigInteger), sa.column("type", sa.String),
                  sa.column("data", sa.JSON))
versions = sa.table("versions", sa.column("stream_id", sa.String),
                    sa.column("document_version", sa.Integer),
                    sa.column("event_position", sa.BigInteger), sa.column("raw_hash", sa.String))
sources = sa.table("sources", sa.column("stream_id", sa.String),
                   sa.column("document_version", sa.Integer), sa.column("raw_hash", sa.String))
blobs = sa.table("blobs", sa.column("sha256", sa.String), sa.column("body", sa.LargeBinary),
                 sa.column("codec", sa.String), sa.column("base", sa.String),
                 sa.column("depth", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.add_column(sa.Column("codec", sa.String(16), nullable=False,
                                   server_default="zlib"))
        batch.add_column(sa.Column("base", sa.String(64)))
        batch.add_column(sa.Column("depth", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("raw_hash", sa.String(64)))
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("raw_hash", sa.String(64)))
    _fill_raw_hashes(op.get_bind())


def _fill_raw_hashes(bind: sa.Connection) -> None:
    position = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.position, events.c.data)
            .where(events.c.position > position,
                   events.c.type.in_(["VersionCaptured", "BaselineImported"]))
            .order_by(events.c.position).limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.data.get("raw_hash"):
                bind.execute(sa.update(versions).where(versions.c.event_position == row.position)
                             .values(raw_hash=row.data["raw_hash"]))
        position = rows[-1].position
    current = (
        sa.select(versions.c.raw_hash)
        .where(versions.c.stream_id == sources.c.stream_id,
               versions.c.document_version == sources.c.document_version)
        .scalar_subquery()
    )
    bind.execute(sa.update(sources).values(raw_hash=current))


def downgrade() -> None:
    _rewrite_as_zlib(op.get_bind())
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("raw_hash")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("raw_hash")
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("depth")
        batch.drop_column("base")
        batch.drop_column("codec")


def _rewrite_as_zlib(bind: sa.Connection) -> None:
    """Every zstd blob becomes zlib, bases first (lower depth), so a delta's base is
    already zlib when the delta is rewritten. Self-contained: migrations must not
    depend on application code that will change."""
    todo = bind.execute(
        sa.select(blobs.c.sha256).where(blobs.c.codec != "zlib")
        .order_by(blobs.c.depth, blobs.c.sha256)
    ).scalars().all()
    for sha256 in todo:
        row = bind.execute(sa.select(blobs.c.body, blobs.c.codec, blobs.c.base)
                           .where(blobs.c.sha256 == sha256)).one()
        if row.codec == "zstd":
            content = zstandard.ZstdDecompressor().decompress(row.body)
        elif row.codec == "zstd-delta":
            base = bind.execute(sa.select(blobs.c.body, blobs.c.codec)
                                .where(blobs.c.sha256 == row.base)).one()
            if base.codec != "zlib":
                raise RuntimeError(f"blob {row.base}: base not rewritten before its delta")
            dictionary = zstandard.ZstdCompressionDict(
                zlib.decompress(base.body), dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            content = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(row.body)
        else:
            raise RuntimeError(f"blob {sha256}: unknown codec {row.codec!r}")
        bind.execute(sa.update(blobs).where(blobs.c.sha256 == sha256)
                     .values(body=zlib.compress(content, 6), codec="zlib", base=None, depth=0))
