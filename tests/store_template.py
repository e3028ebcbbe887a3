"""A migrated store made once per test process and copied for each test that asks for
one (the `store` fixture), instead of running every migration again for each.

Migrating an empty database cost each of the ~670 tests using `store` (and the ~100
using `run`) 20 ms on SQLite and 70 ms on PostgreSQL on a quiet machine, and ten times
that when the disk is busy (a transaction of DDL and its fsyncs, the server creating
each table in turn under Alembic); a copy costs 1 ms and 30 ms. The copies are made
from what this code's migrations produce in this very run, so a new migration is in
them as soon as it exists:

- SQLite: the migrated file, copied byte for byte.
- PostgreSQL: `pg_dump` of a migrated schema (tables, indexes, constraints and the
  alembic_version row), replayed into each test's empty schema in one transaction. The
  dump is trusted only after a replay of it matched the migrated schema in every
  column, index and constraint; without pg_dump, or when they differ, each test runs
  the migrations as before.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from monitor.store import migrate, open_store

SCHEMA_IN_URL = re.compile(r"search_path%3D(t_[0-9a-f]{12})")
PLACEHOLDER = "__template_schema__"

# Of the catalog, what a replay must reproduce for the dump to be used.
SIGNATURE = """
SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
       || ' ' || coalesce(column_default, '-') || ' ' || is_identity
       || ' ' || coalesce(identity_generation, '-')
  FROM information_schema.columns WHERE table_schema = %(schema)s
UNION ALL
SELECT 'index', indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'constraint', c.conrelid::regclass::text || ' ' || c.conname || ' '
       || pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
 WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'version', version_num FROM {schema}.alembic_version
ORDER BY 1, 2
"""


def migrated(url: str) -> None:
    """The migrations, run on the database at `url` (what `store` did for each test)."""
    store = open_store(url, check_schema=False)
    try:
        migrate.upgrade(store.engine)
    finally:
        store.engine.dispose()


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class SqliteTemplate:
    """One migrated SQLite file; `copy_to` puts it where a test's store will be."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        migrated(f"sqlite:///{self.path}")
        leftovers = [p.name for p in folder.iterdir() if p != self.path]
        assert not leftovers, f"the template store left {leftovers} beside it"

    def copy_to(self, url: str) -> None:
        target = Path(url.removeprefix("sqlite:///"))
        if target.exists():  # made by another fixture of the test: migrated as before
            migrated(url)
            return
        shutil.copyfile(self.path, target)


class PostgresTemplate:
    """The DDL (and alembic_version row) of a migrated schema, replayed per test; or,
    when that cannot be trusted, the migrations themselves."""

    def __init__(self, base: str, schema_url: Callable[[str], Iterator[str]]) -> None:
        self.base = base
        self.schema_url = schema_url
        self.dump: str | None = None
        self.why_not = ""
        if shutil.which("pg_dump") is None:
            self.why_not = "no pg_dump"
            return
        try:
            self._trust()
        except Exception as exc:  # pg_dump older than the server, say: as before, then
            self.dump = None
            self.why_not = f"{type(exc).__name__}: {exc}"

    def _trust(self) -> None:
        made = self.schema_url(self.base)
        url = next(made)
        try:
            migrated(url)
            schema = self._schema(url)
            dump = self._dump(schema)
            expected = self._signature(schema)
        finally:
            made.close()
        self.dump = dump
        trial = self.schema_url(self.base)
        try:
            url = next(trial)
            self.copy_to(url)
            replayed = self._signature(self._schema(url))
        finally:
            trial.close()
        if replayed != expected:
            self.dump = None
            self.why_not = "its replay differs from the migrated schema"

    def copy_to(self, url: str) -> None:
        """The schema at `url` (empty) gets the migrated tables."""
        if self.dump is None:
            migrated(url)
            return
        import psycopg

        schema = self._schema(url)
        with psycopg.connect(_plain(self.base), autocommit=True) as conn:
            if conn.execute("SELECT to_regclass(%s)", (f'"{schema}".alembic_version',)
                            ).fetchone() != (None,):  # made by another fixture of the test
                migrated(url)
                return
            with conn.transaction():
                conn.execute(self.dump.replace(PLACEHOLDER, schema).encode())

    @staticmethod
    def _schema(url: str) -> str:
        found = SCHEMA_IN_URL.search(url)
        assert found, url
        return found.group(1)

    def _dump(self, schema: str) -> str:
        done = subprocess.run(
            ["pg_dump", "--dbname", _plain(self.base), "--schema", schema, "--no-owner",
             "--no-privileges", "--inserts"],
            capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert done.returncode == 0, done.stderr
        assert PLACEHOLDER not in done.stdout
        lines = []
        for line in done.stdout.splitlines():
            if line.startswith("\\"):  # psql meta-commands (\restrict): not SQL
                continue
            if line.startswith(f"CREATE SCHEMA {schema};"):  # the test made it already
                continue
            lines.append(line)
        body = "\n".join(lines)
        assert body.count(schema) > 0, "pg_dump wrote nothing of the schema"
        return body.replace(schema, PLACEHOLDER)

    def _signature(self, schema: str) -> list[tuple[str, str]]:
        import psycopg

        with psycopg.connect(_plain(self.base), autocommit=True) as conn:
            rows = conn.execute(SIGNATURE.replace("{schema}", f'"{schema}"'),
                                {"schema": schema}).fetchall()
        return [(kind, text.replace(schema, PLACEHOLDER)) for kind, text in rows]

