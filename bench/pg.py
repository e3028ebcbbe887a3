"""A PostgreSQL schema of the bench's own, made for one measurement and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_schema(base_url: str, prefix: str = "bench_") -> Iterator[str]:
    """A new schema `prefix…` on the server of `base_url` (a MONITOR_TEST_POSTGRES_URL-
    style URL): the URL that uses it. Dropped afterwards, whatever happened."""
    import psycopg

    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    schema = prefix + uuid.uuid4().hex[:10]
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
