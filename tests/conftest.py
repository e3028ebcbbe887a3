"""Shared fixtures: real databases (SQLite files and PostgreSQL), real servers.

PostgreSQL tests run when MONITOR_TEST_POSTGRES_URL is set (CI sets it) and
fail loudly if that server does not answer; without the variable they are
skipped with a visible reason. Each PostgreSQL test gets its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Every test server listens on loopback, which the fetcher refuses by default: allow it
# here, at import, so that the commands tests start in subprocesses inherit it too.
# The tests of the address policy turn it back on explicitly.
os.environ["MONITOR_ALLOW_PRIVATE_NETWORKS"] = "1"

POSTGRES_ENV = "MONITOR_TEST_POSTGRES_URL"
REPO = Path(__file__).resolve().parents[1]


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def postgres_schema_url(base: str) -> Iterator[str]:
    import psycopg

    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schema = "t_" + uuid.uuid4().hex[:12]
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL does not answer: {exc}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI sets it)")
    yield from postgres_schema_url(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI sets it)")
    yield from postgres_schema_url(base)


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    """An initialized event store (schema at head) with projections."""
    from monitor.store import migrate, open_store

    s = open_store(db_url, check_schema=False)
    migrate.upgrade(s.engine)
    yield s
    s.engine.dispose()


@pytest.fixture
def replica():  # type: ignore[no-untyped-def]
    """A local gov.kz replica (noise on, challenge v1) on 127.0.0.1."""
    from monitor.replica import GovkzReplica

    with GovkzReplica() as server:
        yield server


@pytest.fixture
def fetcher():  # type: ignore[no-untyped-def]
    """A Fetcher with no politeness delay and no retries, closed after the test."""
    from monitor.fetch import Fetcher, FetchSettings

    with Fetcher(FetchSettings(min_delay_per_host=0, retries=0, backoff_factor=0)) as f:
        yield f


@pytest.fixture
def noisy_site():  # type: ignore[no-untyped-def]
    from monitor.replica import NoisySite

    with NoisySite() as server:
        yield server


def fast_config(db_url: str, **overrides):  # type: ignore[no-untyped-def]
    """A Config for tests: no politeness delay, quick retries, 3 confirmations."""
    from dataclasses import replace

    from monitor.config import Config, FetchConfig

    fetch = FetchConfig(timeout=2.0, connect_timeout=1.0, retries=2, backoff=0.05,
                        min_delay_per_host=0.0, max_concurrent_per_host=4)
    return replace(Config(path=None, database_url=db_url, fetch=fetch), **overrides)


@pytest.fixture
def checker(store, db_url: str):  # type: ignore[no-untyped-def]
    from monitor.runner import build_checker

    c = build_checker(fast_config(db_url), store, learn_delay=0.3)
    yield c
    c.fetcher.close()


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    """A webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures."""
    from monitor.replica.webhook_sink import WebhookReceiver

    with WebhookReceiver() as server:
        yield server
