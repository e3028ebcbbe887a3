"""A pass split across worker processes: every change recorded once, no lock errors,
per-host politeness held across the processes, and no lookup per check."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import fast_config

from monitor import check as check_module
from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.runner import build_checker, plan_processes, run_pass, run_pass_in_processes
from monitor.store import migrate

PAGES = 40


def _register_pages(store, site, count: int = PAGES) -> list[str]:  # type: ignore[no-untyped-def]
    names = []
    for n in range(1, count + 1):
        name = f"page-{n}"
        register(store, SourceConfig(name=name, url=site.page_url(n), kind="html",
                                     interval_seconds=60, selector="article",
                                     ignore=(".info",)))  # the date line with its counter
        names.append(name)
    return names


def _config(db_url: str, limit: int = 8):  # type: ignore[no-untyped-def]
    config = fast_config(db_url)
    return replace(config, fetch=replace(config.fetch, max_concurrent_per_host=limit))


@pytest.fixture
def noisy_site():  # type: ignore[no-untyped-def]
    from monitor.replica import NoisySite

    with NoisySite(pages=PAGES) as server:
        yield server


@pytest.mark.slow
def test_a_pass_in_two_processes_records_every_change_once_without_lock_errors(
    store, noisy_site, db_url: str
) -> None:
    names = _register_pages(store, noisy_site)
    config = _config(db_url)
    urls = {name: noisy_site.page_url(int(name.split("-")[1])) for name in names}
    shares = plan_processes(urls, 2, 16, config)
    assert len(shares) == 2

    first = run_pass_in_processes(config, db_url, shares, learn=False)
    assert first.processes == 2
    assert sorted(r.source for r in first.results) == sorted(names)
    assert {r.outcome for r in first.results} == {"captured"}, [r.detail for r in first.results]

    quiet = run_pass_in_processes(config, db_url, shares, learn=False)
    assert {r.outcome for r in quiet.results} == {"unchanged"}

    for n in range(1, PAGES + 1):  # every page edited: every check writes at once
        page = noisy_site.page(n)
        noisy_site.edit_page(n, paragraphs=[page.paragraphs[0] + " Amended 7.",
                                            *page.paragraphs[1:]])
    changed = run_pass_in_processes(config, db_url, shares, learn=False)
    assert {r.outcome for r in changed.results} == {"changed"}, [r.detail for r in changed.results]
    assert not any("locked" in r.detail for r in changed.results)
    for name in names:
        assert [e.type for e in store.read_stream(name)].count("ChangeDetected") == 1


def test_without_a_delay_processes_share_the_per_host_limit_rounding_down() -> None:
    config = _config("sqlite://", limit=16)
    urls = {f"p{n}": f"http://one.test/page/{n}" for n in range(10)}
    config = replace(config, fetch=replace(config.fetch, min_delay_per_host=0.0))
    shares = plan_processes(urls, 2, 16, config)
    assert [s.max_concurrent_per_host for s in shares] == [8, 8]
    assert [s.workers for s in shares] == [8, 8]
    assert sorted(n for s in shares for n in s.names) == sorted(urls)

    odd = replace(config, fetch=replace(config.fetch, max_concurrent_per_host=3))
    assert sum(s.max_concurrent_per_host for s in plan_processes(urls, 2, 16, odd)) <= 3
    single = replace(config, fetch=replace(config.fetch, max_concurrent_per_host=1))
    assert [s.max_concurrent_per_host for s in plan_processes(urls, 4, 16, single)] == [1]


def test_with_a_delay_each_host_stays_in_one_process_with_its_whole_limit() -> None:
    config = _config("sqlite://", limit=2)
    config = replace(config, fetch=replace(config.fetch, min_delay_per_host=1.0))
    urls = {f"a{n}": f"https://a.test/{n}" for n in range(6)}
    urls |= {f"b{n}": f"https://b.test/{n}" for n in range(3)}
    urls |= {f"c{n}": f"https://c.test/{n}" for n in range(3)}
    shares = plan_processes(urls, 2, 8, config)
    assert len(shares) == 2
    assert all(s.max_concurrent_per_host == 2 for s in shares)
    hosts = [{name[0] for name in s.names} for s in shares]
    assert hosts[0].isdisjoint(hosts[1])
    assert sorted(len(s.names) for s in shares) == [6, 6]
    one_host = {f"a{n}": f"https://a.test/{n}" for n in range(6)}
    assert len(plan_processes(one_host, 4, 8, config)) == 1


def test_a_pass_looks_up_no_source_row_per_check(store, noisy_site, db_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    names = _register_pages(store, noisy_site, 5)
    checker = build_checker(_config(db_url), store, learn=False)
    try:
        assert {r.outcome for r in run_pass(checker, names, 4).results} == {"captured"}
        lookups: list[str] = []
        real = check_module.source_by_stream
        monkeypatch.setattr(check_module, "source_by_stream",
                            lambda engine, name: lookups.append(name) or real(engine, name))
        assert {r.outcome for r in run_pass(checker, names, 4).results} == {"unchanged"}
        assert lookups == []
    finally:
        checker.fetcher.close()


def test_a_stale_row_still_records_the_change_once(store, noisy_site, db_url: str) -> None:
    [name] = _register_pages(store, noisy_site, 1)
    checker = build_checker(_config(db_url), store, learn=False)
    try:
        stale = check_module.source_by_stream(store.engine, name)
        assert checker.check(name).outcome == "captured"
        page = noisy_site.page(1)
        noisy_site.edit_page(1, paragraphs=["Rewritten 12.", *page.paragraphs[1:]])
        # The row read before the capture: its append conflicts, is re-read, compared again.
        assert checker.check(name, stale).outcome == "changed"
        assert [e.type for e in store.read_stream(name)].count("ChangeDetected") == 1
    finally:
        checker.fetcher.close()


def test_the_schema_check_needs_no_alembic_and_agrees_with_it(tmp_path: Path) -> None:
    assert migrate.head_revision() == migrate._alembic_head()
    url = f"sqlite:///{tmp_path / 'm.db'}"
    from monitor.store import open_store

    migrate.upgrade(open_store(url, check_schema=False).engine)
    probe = (
        "import sys; from monitor.store import open_store; from monitor.store import migrate;"
        f"store = open_store({url!r});"
        "print(migrate.current_revision(store.engine) == migrate.head_revision());"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', 'pygments'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True", "[]"]


def test_an_uninitialized_store_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    from monitor.errors import SchemaError
    from monitor.store import open_store

    with pytest.raises(SchemaError, match="monitor init"):
        open_store(f"sqlite:///{tmp_path / 'empty.db'}")


def test_checks_never_fail_for_want_of_a_pooled_connection(store, noisy_site,
                                                             db_url: str) -> None:
    """SQLAlchemy's default pool (5 + 10 overflow) made the 16th thread's check fail
    after 30 s (`QueuePool limit of size 5 overflow 10`). Hold that many connections,
    then check on 4 more threads: the pool sized to the workers hands them theirs."""
    from monitor.store import open_store

    names = _register_pages(store, noisy_site, 4)
    busy = open_store(db_url, check_schema=False, threads=16)
    held = [busy.engine.connect() for _ in range(15)]
    checker = build_checker(_config(db_url), busy, learn=False)
    try:
        results = run_pass(checker, names, 4).results
        assert {r.outcome for r in results} == {"captured"}, [r.detail for r in results]
    finally:
        checker.fetcher.close()
        for conn in held:
            conn.close()
        busy.engine.dispose()
