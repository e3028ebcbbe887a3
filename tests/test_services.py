"""`make test` uses what runs on the machine: PostgreSQL, Redis and RabbitMQ on their
default local ports are found without any variable, and one line says which services
were used and which tests were skipped for lack of one.

Each test runs pytest on a tiny test file with this suite's conftest, in a subprocess
whose environment names no service, as on a fresh clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_MISSING, REQUIRE_ENV, SERVICES

TINY_SUITE = '''
import psycopg


def test_postgres_answers(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
    assert schema.startswith("t_")  # the schema the fixture made for this test


def test_needs_nothing():
    pass
'''


def run_tiny_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_tiny.py").write_text(TINY_SUITE)
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("MONITOR_", "PYTEST_", "PYTHONPATH"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:hypothesispytest", "test_tiny.py"],
        cwd=tmp_path, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )


def postgres_on_default_port() -> bool:
    postgres = SERVICES[0]
    try:
        postgres.probe(postgres.default_url)
    except Exception:
        return False
    return True


def test_a_postgresql_on_its_default_port_is_used_without_any_variable(tmp_path: Path) -> None:
    if not postgres_on_default_port():
        pytest.skip(POSTGRES_MISSING)
    # Redis and RabbitMQ are turned off (an empty variable) so only PostgreSQL is found.
    done = run_tiny_suite(tmp_path, MONITOR_TEST_REDIS_URL="", MONITOR_TEST_AMQP_URL="")
    out = done.stdout
    assert done.returncode == 0, out[-3000:]
    assert ("services: PostgreSQL found on 127.0.0.1:5432, Redis off (MONITOR_TEST_REDIS_URL "
            "is empty), RabbitMQ off (MONITOR_TEST_AMQP_URL is empty)") in out
    assert "2 passed" in out  # the PostgreSQL test ran, in its own schema
    assert ("services: used PostgreSQL; missing Redis, RabbitMQ; no test skipped for lack "
            "of one") in out


def test_the_last_line_names_the_tests_skipped_for_lack_of_a_service(tmp_path: Path) -> None:
    done = run_tiny_suite(tmp_path, MONITOR_TEST_POSTGRES_URL="", MONITOR_TEST_REDIS_URL="",
                          MONITOR_TEST_AMQP_URL="")
    out = done.stdout
    assert done.returncode == 0, out[-3000:]
    assert "1 passed, 1 skipped" in out
    assert ("services: used none; missing PostgreSQL, Redis, RabbitMQ; 1 test skipped for "
            "lack of one: PostgreSQL 1 (test_tiny.py::test_postgres_answers)") in out


def test_when_services_are_required_a_missing_one_is_an_error(tmp_path: Path) -> None:
    done = run_tiny_suite(tmp_path, MONITOR_TEST_POSTGRES_URL="", MONITOR_TEST_REDIS_URL="",
                          MONITOR_TEST_AMQP_URL="", **{REQUIRE_ENV: "1"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-3000:]
    said = done.stderr
    assert "MONITOR_REQUIRE_SERVICES=1 but PostgreSQL is off" in said
    assert "set MONITOR_TEST_POSTGRES_URL, MONITOR_TEST_REDIS_URL, MONITOR_TEST_AMQP_URL" in said
    assert "passed" not in done.stdout


def test_a_named_server_that_does_not_answer_is_reported_so_never_as_used(
    tmp_path: Path,
) -> None:
    closed = "amqp://guest:guest@127.0.0.1:1/"
    done = run_tiny_suite(tmp_path, MONITOR_TEST_POSTGRES_URL="", MONITOR_TEST_REDIS_URL="",
                          MONITOR_TEST_AMQP_URL=closed)
    out = done.stdout
    assert "RabbitMQ not answering at MONITOR_TEST_AMQP_URL" in out, out[-3000:]
    assert ("services: used none; not answering RabbitMQ (MONITOR_TEST_AMQP_URL); missing "
            "PostgreSQL, Redis") in out, out[-3000:]
    required = run_tiny_suite(tmp_path, MONITOR_TEST_POSTGRES_URL="",
                              MONITOR_TEST_REDIS_URL="", MONITOR_TEST_AMQP_URL=closed,
                              **{REQUIRE_ENV: "1"})
    assert required.returncode == pytest.ExitCode.USAGE_ERROR
    assert "RabbitMQ is not answering at MONITOR_TEST_AMQP_URL" in required.stderr
