"""Shared fixtures: real databases (SQLite files and PostgreSQL), real servers.

PostgreSQL, Redis and RabbitMQ tests use the server named by MONITOR_TEST_POSTGRES_URL,
MONITOR_TEST_REDIS_URL and MONITOR_TEST_AMQP_URL. A variable that is not set is filled in
at session start when the service answers on its default local port, so `make test` uses
whatever runs on the machine; a variable set empty turns its service off. A test whose
service is missing is skipped with a visible reason, and one line at the end counts
them; with MONITOR_REQUIRE_SERVICES=1 (as CI sets) a missing service is an error
instead. A PostgreSQL server that is named but does not answer fails its tests loudly.
Each PostgreSQL test gets its own schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _fast_stopping_servers() -> None:
    from monitor.replica.archive_api import FakeArchive
    from monitor.replica.webhook_sink import WebhookReceiver

    WebhookReceiver.poll_interval = FakeArchive.poll_interval = 0.05


# Every test server listens on loopback, which the fetcher refuses by default: allow it
# here, at import, so that the commands tests start in subprocesses inherit it too.
# The tests of the address policy turn it back on explicitly.
os.environ["MONITOR_ALLOW_PRIVATE_NETWORKS"] = "1"
# The daemons tests start serve the web app on a free port, never on 8080 (two tests at
# once, or a developer's own `make run`, would hold it).
os.environ.setdefault("MONITOR_WEB_LISTEN", "127.0.0.1:0")
# Password hashes with 1 MiB instead of 64 (argon2id all the same): the web tests sign in
# hundreds of times, and the 64 MiB hash took a second each on a loaded CI machine.
os.environ.setdefault("MONITOR_ARGON2_MEMORY_KIB", "1024")

# The webhook receiver and the fake archive stop within 50 ms, not the standard
# library's 0.5 s poll (as monitor.replica's servers do): ~200 tests stop one each.
_fast_stopping_servers()

POSTGRES_ENV = "MONITOR_TEST_POSTGRES_URL"
REQUIRE_ENV = "MONITOR_REQUIRE_SERVICES"
REPO = Path(__file__).resolve().parents[1]


# --- services: what runs on this machine --------------------------------------------------
def _probe_postgres(url: str) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, connect_timeout=2) as conn:
        conn.execute("SELECT 1")


def _probe_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()


def _probe_amqp(url: str) -> None:
    import pika

    params = pika.URLParameters(f"{url}?connection_attempts=1&socket_timeout=2&stack_timeout=3")
    pika.BlockingConnection(params).close()


@dataclass(frozen=True)
class Service:
    name: str
    env: str  # the variable that names it; skip reasons name it too
    address: str  # its default local port
    default_url: str  # there, as .ci/run starts it
    probe: Callable[[str], None]  # raises when the service does not answer


SERVICES = (
    Service("PostgreSQL", POSTGRES_ENV, "127.0.0.1:5432",
            "postgresql://postgres@127.0.0.1:5432/test", _probe_postgres),
    Service("Redis", "MONITOR_TEST_REDIS_URL", "127.0.0.1:6379",
            "redis://127.0.0.1:6379/15", _probe_redis),
    Service("RabbitMQ", "MONITOR_TEST_AMQP_URL", "127.0.0.1:5672",
            "amqp://guest:guest@127.0.0.1:5672/", _probe_amqp),
)


@dataclass(frozen=True)
class Found:
    service: Service
    available: bool
    how: str  # "found on 127.0.0.1:5432", "from MONITOR_TEST_REDIS_URL", "not found on …"
    problem: str = ""


FOUND = pytest.StashKey[list[Found]]()


def _problem(service: Service, url: str) -> str | None:
    try:
        service.probe(url)
    except Exception as exc:  # any failure means: not usable here
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def detect(service: Service, required: bool) -> Found:
    """Use the variable when it is set (empty: off), else the default port if it answers.

    A named server is probed too, so the summary never says "used" of a server that
    did not answer. It is still not skipped: its tests run and fail loudly, which says
    more than a skip (and with services required, it is an error before any test)."""
    named = os.environ.get(service.env)
    if named is not None:
        if not named:
            return Found(service, False, f"off ({service.env} is empty)")
        problem = _problem(service, named)
        if problem:
            return Found(service, False, f"not answering at {service.env}", problem)
        return Found(service, True, f"from {service.env}")
    problem = _problem(service, service.default_url)
    if problem:
        return Found(service, False, f"not found on {service.address}", problem)
    # Set for this process and the xdist workers it starts, so every fixture and test
    # that reads the variable sees the same server CI would name.
    os.environ[service.env] = service.default_url
    return Found(service, True, f"found on {service.address}")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker inherits the controller's findings
        return
    required = os.environ.get(REQUIRE_ENV) == "1"
    found = [detect(service, required) for service in SERVICES]
    config.stash[FOUND] = found
    missing = [f for f in found if not f.available]
    if missing and required:
        raise pytest.UsageError(
            f"{REQUIRE_ENV}=1 but " + "; ".join(
                f"{f.service.name} is {f.how}" + (f" ({f.problem})" if f.problem else "")
                for f in missing)
            + ": start it or set " + ", ".join(f.service.env for f in missing)
        )


def pytest_report_header(config: pytest.Config) -> str | None:
    found = config.stash.get(FOUND, None)
    if found is None:
        return None
    return "services: " + ", ".join(f"{f.service.name} {f.how}" for f in found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = terminalreporter.config.stash.get(FOUND, None)
    if found is None:
        return
    lacking: dict[str, list[str]] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        for f in found:
            if f.service.env in reason:
                lacking.setdefault(f.service.name, []).append(report.nodeid)
                break
    used = [f.service.name for f in found if f.available]
    silent = [f"{f.service.name} ({f.service.env})" for f in found
              if not f.available and f.how.startswith("not answering")]
    missing = [f.service.name for f in found
               if not f.available and not f.how.startswith("not answering")]
    line = f"services: used {', '.join(used) or 'none'}"
    if silent:
        line += f"; not answering {', '.join(silent)}"
    if missing:
        line += f"; missing {', '.join(missing)}"
    skipped = sum(len(ids) for ids in lacking.values())
    if not skipped:
        line += "; no test skipped for lack of one"
    else:
        tests = "test" if skipped == 1 else "tests"
        line += f"; {skipped} {tests} skipped for lack of one: " + ", ".join(
            f"{name} {len(ids)}" + (f" ({' '.join(ids)})" if len(ids) <= 3 else "")
            for name, ids in lacking.items())
    terminalreporter.write_line(line, yellow=bool(skipped), green=not skipped)


# --- order: the slow files first ------------------------------------------------------
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding a test marked `slow` run first, then the others, most tests first.

    `make test` hands whole files to the workers in this order (`--dist loadfile
    --no-loadscope-reorder`), each taking the next when it is nearly done. xdist's own
    order (most tests first) put the files of one long test (a fresh clone's `make run`,
    the daemon's end-to-end tests) last, where one worker ran them while the other sat
    idle; started first, they are balanced by the many short files that follow. Within a
    file the order is kept."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def weight(name: str) -> tuple[bool, int]:
        group = by_file[name]
        return (not any(i.get_closest_marker("slow") for i in group), -len(group))

    items[:] = [item for name in sorted(by_file, key=weight) for item in by_file[name]]


# --- databases ----------------------------------------------------------------------------


POSTGRES_MISSING = (f"PostgreSQL tests need {POSTGRES_ENV} or a server on 127.0.0.1:5432 "
                    "(database test, user postgres)")


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
        pytest.skip(POSTGRES_MISSING)
    yield from postgres_schema_url(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    if base is None:
        pytest.skip(POSTGRES_MISSING)
    yield from postgres_schema_url(base)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from store_template import SqliteTemplate

    return SqliteTemplate(tmp_path_factory.mktemp("store-template"))


@pytest.fixture(scope="session")
def _postgres_template():  # type: ignore[no-untyped-def]
    from store_template import PostgresTemplate

    base = postgres_base_url()
    if base is None:
        pytest.skip(POSTGRES_MISSING)
    return PostgresTemplate(base, postgres_schema_url)


def _template(request: pytest.FixtureRequest, db_url: str):  # type: ignore[no-untyped-def]
    kind = "_sqlite_template" if db_url.startswith("sqlite:") else "_postgres_template"
    return request.getfixturevalue(kind)


@pytest.fixture
def store(db_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """An initialized event store (schema at head) with projections: a copy of one the
    migrations made once per test process (tests/store_template.py)."""
    from monitor.store import open_store

    _template(request, db_url).copy_to(db_url)
    s = open_store(db_url, check_schema=False)
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

    # Learning's two loads 50 ms apart, not the product's 3 s: the replicas' noise (view
    # counters, millisecond clocks, tokens) differs on every load however close.
    c = build_checker(fast_config(db_url), store, learn_delay=0.05)
    yield c
    c.fetcher.close()


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    """A webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures."""
    from monitor.replica.webhook_sink import WebhookReceiver

    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""
    from monitor.replica.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def run(tmp_path: Path, db_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """`monitor …` (cli_helpers.monitor), against an initialized store of each kind.

    The store starts as a copy of the migrated template, so `init` does the rest of
    its work (the checkpoint key) without running every migration again."""
    from cli_helpers import Result, monitor

    _template(request, db_url).copy_to(db_url)
    env = {"MONITOR_DATABASE_URL": db_url}
    assert monitor("init", cwd=tmp_path, env=env).code == 0

    def command(*args: str) -> Result:
        return monitor(*args, cwd=tmp_path, env=env)

    return command


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    """A FaultServer on 127.0.0.1 (tests/http_faults.py): routes set by the test."""
    from http_faults import FaultServer

    with FaultServer() as running:
        yield running
