"""An add of many URLs writes in batches (EventStore.append_many) exactly what adding
them one by one writes (issue 13: 100,000 URLs in under a minute)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import monitor
from conftest import fast_config

from monitor import adding, catalog
from monitor.adding import Added, Wanted
from monitor.config import SourceConfig
from monitor.errors import ConcurrencyConflict
from monitor.events import SourceRegistered
from monitor.store import migrate, open_store
from monitor.store.queries import list_sources
from monitor.store.verify import verify_log

URLS = (
    "https://www.gov.kz/memleket/entities/mfa/press/news/details/101?lang=ru",
    "https://www.gov.kz/memleket/entities/mfa/press/news/details/102",  # language chosen
    "https://example.com/a/b",
    "https://example.com/a-b",  # the same readable name: a suffix
    "https://EXAMPLE.com/a/./b",  # the first again, spelled otherwise
    "https://minjust.gov.kz/приказ/318",
    "https://adilet.zan.kz/rus/docs/V2300000001.pdf",
    "https://example.com/watched",  # registered before the add
    "https://EXAMPLE.com/watched",  # again: its row read at the start is stale by now
    "https://example.com/removed",  # its source removed before the add
    *(f"https://www.gov.kz/memleket/entities/edu/press/news/details/{n}?lang=kk"
      for n in range(200, 215)),
)


def _one_by_one(store: Any, config: Any, wanted: Wanted) -> Added:
    """What `adding.add` did before batches: one `catalog.register` a source."""
    wanted = adding.checked(config, wanted)
    names = catalog.SourceNames(store)
    done = Added()
    for plan in adding.planned(names, config, wanted):
        registration = catalog.register(store, plan.spec, only=wanted.named())
        names.claim(plan.spec.name, plan.spec.url, removed=registration.removed)
        if registration.removed:
            done.notes.append(f"{plan.spec.name} removed")
        elif registration.created:
            done.added.append(plan.spec.name)
            if plan.note:
                done.notes.append(f"{plan.spec.name}: {plan.note}")
        else:
            done.existing.append(plan.spec.name)
    return done


def _prepared(store: Any) -> None:
    catalog.register(store, SourceConfig(name="mine", url="https://example.com/watched",
                                         kind="html", interval_seconds=3600))
    catalog.register(store, SourceConfig(name="gone", url="https://example.com/removed",
                                         kind="html", interval_seconds=3600))
    catalog.remove(store, "gone", "test")


def _log(store: Any) -> list[tuple[Any, ...]]:
    return [(e.position, e.stream_id, e.version, e.type, e.schema_version, e.data)
            for e in store.read_all()]


def _rows(store: Any) -> list[dict[str, Any]]:
    rows = sorted(list_sources(store.engine, include_removed=True), key=lambda r: r.stream_id)
    return [{k: v for k, v in dataclasses.asdict(row).items() if k != "registered_at"}
            for row in rows]


def test_a_batched_add_writes_what_one_by_one_adds_write(
    store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fast_config(db_url)
    one = open_store(f"sqlite:///{tmp_path / 'one.db'}", check_schema=False)
    migrate.upgrade(one.engine)
    for s in (store, one):
        _prepared(s)
    wanted = Wanted(urls=URLS, interval="1h", tags=("news",))
    monkeypatch.setattr(adding, "BATCH", 4)  # several batches, one partly full
    done = adding.add(store, config, wanted)
    before = _one_by_one(one, config, wanted)
    assert done.added == before.added and done.existing == before.existing
    assert done.existing == ["example-com-a-b", "mine", "mine"]
    assert len(done.added) == len(URLS) - 3
    assert "already watched as mine (nothing changed)" in done.notes
    assert "example-com-removed" in done.added  # a removed source's page: a new name
    assert _log(store) == _log(one)  # the same events at the same positions
    assert _rows(store) == _rows(one)  # and the same projection rows
    report = verify_log(store.engine)
    assert report.intact and not report.projections_differ, report.problems
    assert report.events_checked == len(_log(store))
    again = adding.add(store, config, wanted)  # nothing new: nothing written
    assert again.added == [] and len(again.existing) == len(URLS)
    assert _log(store) == _log(one)
    one.engine.dispose()


def test_append_many_is_all_or_nothing(store) -> None:  # type: ignore[no-untyped-def]
    def registered(name: str) -> SourceRegistered:
        return SourceRegistered(name=name, url=f"https://example.com/{name}", kind="html",
                                interval_seconds=60)

    store.append("b", 0, [registered("b")])
    with pytest.raises(ConcurrencyConflict):  # b is at version 1 already
        store.append_many([("a", 0, [registered("a")]), ("b", 0, [registered("b")])])
    assert [e.stream_id for e in store.read_all()] == ["b"]
    assert [r.name for r in list_sources(store.engine)] == ["b"]


def test_a_list_with_bad_lines_names_each_and_adds_none(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.com/good\nftp://example.com/x\n# a comment\n"
                       "https://exa mple.com/\nhttps://example.com/also-good\n",
                       encoding="utf-8")
    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    result = monitor("add", "--from-file", str(listing), cwd=tmp_path, env=env)
    assert result.code == 2 and "Traceback" not in result.err
    assert "2 of 4 URLs cannot be watched, so none was added" in result.err
    assert "'ftp://example.com/x' is not an http(s) URL" in result.err
    assert "it contains spaces" in result.err
    listed = monitor("sources", "--format", "json", cwd=tmp_path, env=env)
    assert listed.code == 0 and listed.json() == []
