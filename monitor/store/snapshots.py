"""Content-addressed blobs: each text or raw page stored once, compressed."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from monitor.errors import PersistenceError
from monitor.store.schema import blobs


@dataclass(frozen=True)
class Blob:
    sha256: str
    kind: str  # "text" (normalized canonical text) | "raw" (fetched bytes)
    content: bytes

    @classmethod
    def text(cls, canonical_text: str) -> Blob:
        data = canonical_text.encode("utf-8")
        return cls(hashlib.sha256(data).hexdigest(), "text", data)

    @classmethod
    def raw(cls, content: bytes) -> Blob:
        return cls(hashlib.sha256(content).hexdigest(), "raw", content)


def put_blobs(conn: Connection, items: Iterable[Blob]) -> None:
    """Store blobs that are not stored yet; an existing one is left untouched."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for blob in items:
        stmt = insert(blobs).values(
            sha256=blob.sha256,
            kind=blob.kind,
            size=len(blob.content),
            body=zlib.compress(blob.content, 6),
        )
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))


def get_blob(conn: Connection, sha256: str) -> bytes:
    row = conn.execute(select(blobs.c.body, blobs.c.size).where(blobs.c.sha256 == sha256)).first()
    if row is None:
        raise PersistenceError(f"snapshot {sha256[:12]} is missing from the store")
    content = zlib.decompress(row.body)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise PersistenceError(f"snapshot {sha256[:12]} does not match its hash")
    return content


def get_text(conn: Connection, sha256: str) -> str:
    return get_blob(conn, sha256).decode("utf-8")
