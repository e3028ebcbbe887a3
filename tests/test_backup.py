"""`monitor backup` and `monitor restore`: a copy taken while checks append restores into an
empty store of either kind and verifies; the log alone rebuilds the projections; a store
that is not empty, a damaged or altered backup and a newer schema are refused with
nothing written. Real SQLite files, real PostgreSQL, real checks of a local site."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zstandard
from cli_helpers import Result, monitor
from conftest import fast_config
from sqlalchemy import func, inspect, select, text

from monitor.alerts.schema import deliveries
from monitor.backup import COPIED, DERIVED, head_of, unclassified
from monitor.catalog import register
from monitor.config import SourceConfig
from monitor.runner import build_checker
from monitor.store import open_store
from monitor.store.database import open_engine
from monitor.store.queries import table_rows
from monitor.store.schema import PROJECTION_TABLES, check_ledger, events
from monitor.web.accounts.schema import users

PAGES = 3


class Source:
    """A SQLite store in its own folder, with real checks of a local site's pages: versions,
    changes, check ledger rows, a signed checkpoint in the witness file, a user. Made once
    per test process (`_made`) and copied for each test."""

    def __init__(self, folder: Path, site: Any) -> None:
        self.folder, self.site = folder, site
        self.url = f"sqlite:///{folder / 'monitor.db'}"
        self.store = open_store(self.url)
        self.checker = build_checker(fast_config(self.url), self.store, learn_delay=0.05)
        self.edits = 0

    @classmethod
    def make(cls, folder: Path, site: Any, template: Any) -> Source:
        folder.mkdir()
        template.copy_to(f"sqlite:///{folder / 'monitor.db'}")
        assert monitor("init", cwd=folder,
                       env={"MONITOR_DATABASE_URL": f"sqlite:///{folder / 'monitor.db'}"}
                       ).code == 0
        made = cls(folder, site)
        for n in range(1, PAGES + 1):
            site.set_page(n, f"Release {n}", [f"Paragraph {n} of the release.", "Fixed."])
            register(made.store, SourceConfig(name=f"page{n}", url=site.page_url(n),
                                              kind="html", interval_seconds=60))
        made.check_all()
        made.edit_and_check()
        assert made.run("checkpoint").code == 0
        added = made.run("users", "add", "ada", "--role", "admin", "--no-password")
        assert added.code == 0, added.err
        made.close()
        return made

    @property
    def env(self) -> dict[str, str]:
        return {"MONITOR_DATABASE_URL": self.url}

    def run(self, *args: str) -> Result:
        return monitor(*args, cwd=self.folder, env=self.env)

    def check_all(self) -> None:
        for n in range(1, PAGES + 1):
            assert self.checker.check(f"page{n}").outcome != "failed"

    def edit_and_check(self) -> None:
        self.edits += 1
        n = self.edits % PAGES + 1
        self.site.edit_page(n, paragraphs=[f"Paragraph {n} of the release.",
                                           f"Edited {self.edits} times."])
        self.check_all()

    def close(self) -> None:
        self.checker.fetcher.close()
        self.store.engine.dispose()


@pytest.fixture(scope="module")
def _made(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Any) -> Any:
    from monitor.replica import NoisySite

    with NoisySite() as site:
        made = Source.make(tmp_path_factory.mktemp("backup") / "source", site, _sqlite_template)
        yield made


@pytest.fixture
def source(tmp_path: Path, _made: Source) -> Any:
    shutil.copytree(_made.folder, tmp_path / "source")
    copied = Source(tmp_path / "source", _made.site)
    yield copied
    copied.close()


def at(folder: Path, url: str, *args: str) -> Result:
    """`monitor …` in `folder` against the store at `url`."""
    folder.mkdir(exist_ok=True)
    return monitor("--database", url, *args, cwd=folder)


def rows(url: str, table: Any) -> list[tuple[Any, ...]]:
    engine = open_engine(url)
    try:
        return table_rows(engine, table)
    finally:
        engine.dispose()


def count(url: str, table: Any) -> int:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def tables_of(url: str) -> list[str]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "logical"])
def test_a_backup_taken_while_checks_run_restores_and_verifies(
        source: Source, tmp_path: Path, kind: str) -> None:
    started, stop, failures = threading.Event(), threading.Event(), []

    def keep_checking() -> None:
        try:
            while not stop.is_set():
                source.edit_and_check()
                started.set()
        except BaseException as exc:
            failures.append(exc)
            started.set()

    writer = threading.Thread(target=keep_checking)
    writer.start()
    try:
        assert started.wait(30)
        before = source.store.last_position()
        made = source.run("backup", "--output", str(tmp_path / "b.tar"), "--kind", kind,
                          "--with-keys", "--format", "json")
        during = source.store.last_position()
        while source.store.last_position() == during and not failures:
            stop.wait(0.05)  # the checks go on after the backup
    finally:
        stop.set()
        writer.join()
    assert not failures, failures
    assert made.code == 0, made.err
    taken = made.json()
    assert before <= taken["head_position"] <= during < source.store.last_position()
    assert set(taken["files"]) == {"files/checkpoint.ed25519", "files/witness.jsonl"}

    target = f"sqlite:///{tmp_path / 'restored' / 'monitor.db'}"
    restored = at(tmp_path / "restored", target, "restore", str(tmp_path / "b.tar"))
    assert restored.code == 0, restored.err
    assert "next: `monitor verify`" in restored.out
    verified = at(tmp_path / "restored", target, "verify", "--format", "json")
    assert verified.code == 0, verified.out
    report = verified.json()
    assert report["intact"] and report["problems"] == []
    assert report["checkpoints"]["matched"] >= 1 and report["checkpoints"]["key_id"]
    assert report["checkpoints"]["ledger_rows"] > 0
    copied = rows(target, events)
    assert len(copied) == taken["events"] and copied[-1][0] == taken["head_position"]
    assert copied == [r for r in rows(source.url, events) if r[0] <= taken["head_position"]]
    assert rows(target, users) == rows(source.url, users)


def test_sqlite_moves_to_postgresql_through_a_logical_backup(
        source: Source, tmp_path: Path, postgres_url: str) -> None:
    backup = tmp_path / "move.tar"
    assert source.run("backup", "-o", str(backup), "--kind", "logical",
                      "--with-keys").code == 0
    place = tmp_path / "pg"
    restored = at(place, postgres_url, "restore", str(backup))
    assert restored.code == 0, restored.err
    assert (place / "var" / "keys" / "checkpoint.ed25519").exists()
    verified = at(place, postgres_url, "verify")
    assert verified.code == 0 and "log intact" in verified.out, verified.out
    assert "WARNING" not in verified.out  # the key came along: the signatures were checked
    for args in (("history", "page1", "--format", "json"), ("sources", "--format", "json"),
                 ("report", "--since", "2026-01-01", "--format", "json")):
        there = at(place, postgres_url, *args)
        assert there.code == 0, there.err
        here = source.run(*args).json()
        if args[0] == "report":  # the moment it was made aside
            assert there.json().pop("generated_at") and here.pop("generated_at")
        assert (there.json() if args[0] != "report" else _without_moment(there)) == here, args
    # The sequences moved past the loaded ids: the moved store takes new appends.
    assert at(place, postgres_url, "checkpoint").code == 0
    assert at(place, postgres_url, "users", "add", "bob", "--role", "viewer",
              "--no-password").code == 0
    again = at(place, postgres_url, "verify", "--format", "json")
    assert again.code == 0 and again.json()["checkpoints"]["matched"] == 2, again.out
    # And back: PostgreSQL's logical export (its default) restores into SQLite.
    assert at(place, postgres_url, "backup", "-o", str(tmp_path / "pg.tar"), "--kind",
              "sqlite").code == 2
    assert at(place, postgres_url, "backup", "-o", str(tmp_path / "pg.tar")).code == 0
    home = f"sqlite:///{tmp_path / 'home' / 'monitor.db'}"
    assert at(tmp_path / "home", home, "restore", str(tmp_path / "pg.tar")).code == 0
    assert rows(home, events) == rows(postgres_url, events)
    assert at(tmp_path / "home", home, "verify").code == 0


def _without_moment(result: Result) -> Any:
    found = result.json()
    found.pop("generated_at")
    return found


def test_the_log_alone_rebuilds_the_same_projections(source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup), "--kind", "logical").code == 0
    target = f"sqlite:///{tmp_path / 'bare' / 'monitor.db'}"
    restored = at(tmp_path / "bare", target, "restore", str(backup), "--log-only")
    assert restored.code == 0, restored.err
    assert "the log alone" in restored.out
    for table in PROJECTION_TABLES:
        assert rows(target, table) == rows(source.url, table), table.name
    assert count(target, check_ledger) == count(source.url, check_ledger) > 0
    assert count(target, users) == 0 and count(target, deliveries) == 0
    assert count(source.url, users) == 1
    assert at(tmp_path / "bare", target, "verify").code == 0
    assert at(tmp_path / "bare", target, "search", "Edited").out == source.run(
        "search", "Edited").out


def test_restore_refuses_a_store_that_is_not_empty(source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup)).code == 0
    before = rows(source.url, events)
    refused = source.run("restore", str(backup))
    assert refused.code == 2
    assert refused.err.count("\n") == 1 and "not empty" in refused.err
    assert rows(source.url, events) == before


def _rewritten(original: Path, target: Path, change: Any) -> None:
    """A copy of the backup with `change(name, body) -> body` applied to each member."""
    with tarfile.open(original) as tar, tarfile.open(target, "w") as out:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            body = change(info.name, handle.read())
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))


def _manifest(edit: Any) -> Any:
    def change(name: str, body: bytes) -> bytes:
        if name != "manifest.json":
            return body
        manifest = json.loads(body)
        edit(manifest)
        return json.dumps(manifest).encode()
    return change


def _flip(member: str) -> Any:
    def change(name: str, body: bytes) -> bytes:
        if name != member:
            return body
        return body[:40] + bytes([body[40] ^ 1]) + body[41:]
    return change


DAMAGE = {
    "a flipped byte in the log": (_flip("tables/events.jsonl.zst"), "not what the manifest"),
    "a flipped byte in the SQLite copy": (_flip("store.sqlite.zst"), "not what the manifest"),
    "a flipped byte in the key": (_flip("files/checkpoint.ed25519"), "not what the manifest"),
    "a manifest that counts one event more": (
        _manifest(lambda m: m["tables"]["events"].update(rows=m["tables"]["events"]["rows"] + 1)),
        "the manifest says"),
    "a manifest with another head": (
        _manifest(lambda m: m["head"].update(hash="0" * 64)), "not the manifest's head"),
    "a newer schema": (_manifest(lambda m: m.update(schema="9999")), "newer govkz-monitor"),
    "an older schema": (_manifest(lambda m: m.update(schema="0001")), "older than this"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_or_altered_backup_is_refused_with_nothing_written(
        source: Source, tmp_path: Path, damage: str) -> None:
    backup, bad = tmp_path / "b.tar", tmp_path / "bad.tar"
    kind = "sqlite" if "SQLite" in damage else "logical"
    assert source.run("backup", "-o", str(backup), "--kind", kind, "--with-keys").code == 0
    change, said = DAMAGE[damage]
    _rewritten(backup, bad, change)
    target = tmp_path / "t"
    refused = at(target, f"sqlite:///{target / 'monitor.db'}", "restore", str(bad))
    assert refused.code == 2, refused.out
    assert refused.err.count("\n") == 1 and said in refused.err, refused.err
    assert not (target / "monitor.db").exists() and not (target / "keys").exists()


def test_a_cut_short_sqlite_backup_or_no_backup_at_all_is_one_line(
        source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup)).code == 0
    whole = backup.read_bytes()
    (tmp_path / "cut.tar").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "page.html").write_text("<html></html>")
    target = tmp_path / "t"
    url = f"sqlite:///{target / 'monitor.db'}"
    for name, said in (("cut.tar", "cut short"), ("page.html", "not a govkz-monitor backup"),
                       ("missing.tar", "no such file")):
        refused = at(target, url, "restore", str(tmp_path / name))
        assert refused.code == 2 and refused.err.count("\n") == 1, refused.err
        assert said in refused.err, refused.err
    assert not (target / "monitor.db").exists()
    again = source.run("backup", "-o", str(backup))
    assert again.code == 2 and "never replaces" in again.err
    assert backup.read_bytes() == whole


def test_a_different_key_at_the_target_is_refused_before_anything_is_written(
        source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup)).code == 0
    target = tmp_path / "t"
    url = f"sqlite:///{target / 'monitor.db'}"
    assert at(target, url, "init").code == 0  # an empty store with a key of its own
    refused = at(target, url, "restore", str(backup))
    assert refused.code == 2 and "move that file away" in refused.err, refused.err
    assert count(url, events) == 0
    (target / "keys" / "checkpoint.ed25519").unlink()
    restored = at(target, url, "restore", str(backup))
    assert restored.code == 0 and "was not in the backup" in restored.out, restored.err


def test_every_table_of_the_schema_is_copied_or_rebuilt(store: Any, db_url: str) -> None:
    """A new migration's table must be classified in monitor/backup/__init__.py, or backups
    would leave it out: this fails until it is."""
    names = tables_of(db_url)
    assert unclassified(names) == []
    assert set(COPIED) <= set(names) and {t.name for t in PROJECTION_TABLES} <= DERIVED


def test_backup_refuses_a_table_it_does_not_know(source: Source, tmp_path: Path) -> None:
    engine = open_engine(source.url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE mystery (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    for kind in ("sqlite", "logical"):
        refused = source.run("backup", "-o", str(tmp_path / f"{kind}.tar"), "--kind", kind)
        assert refused.code == 2 and "mystery" in refused.err, refused.err
        assert not (tmp_path / f"{kind}.tar").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["source"]


# --- hostile backups: bombs, damaged rows, altered logs, files in the way ------------------

def _opened(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A backup's manifest and its other members' bytes."""
    with tarfile.open(path) as tar:
        bodies = {}
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            bodies[info.name] = handle.read()
    return json.loads(bodies.pop("manifest.json")), bodies


def _packed(target: Path, manifest: dict[str, Any], bodies: dict[str, bytes]) -> Path:
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for name, body in [("manifest.json", json.dumps(manifest).encode()), *bodies.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    return target


def _unpack(body: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read()


def _described(info: dict[str, Any], body: bytes) -> None:
    """The member's sha256 and size as the manifest gives them, recomputed."""
    info.update(size=len(body), sha256=hashlib.sha256(body).hexdigest())


def _with_lines(backup: Path, target: Path, table: str, edit: Any) -> Path:
    """The logical backup with `table`'s rows edited by `edit(rows) -> rows` (a row: a list of
    values, or bytes for a raw line), its manifest recomputed to match, as a forger would."""
    manifest, bodies = _opened(backup)
    info = manifest["tables"][table]
    rows = [json.loads(line) for line in _unpack(bodies[info["member"]]).splitlines()]
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() + b"\n" for r in edit(rows)]
    raw = b"".join(lines)
    bodies[info["member"]] = zstandard.ZstdCompressor().compress(raw)
    _described(info, bodies[info["member"]])
    info.update(rows=len(lines), unpacked=len(raw), longest_line=max(map(len, lines)))
    if table == "events":
        manifest["head"] = head_of(json.loads(lines[-1]))
    return _packed(target, manifest, bodies)


def _edited(column: str, value: Any, row: int = 0) -> Any:
    def edit(rows: list[list[Any]]) -> list[Any]:
        rows[row][[c.name for c in events.columns].index(column)] = value
        return rows
    return edit


def _other_data(rows: list[list[Any]]) -> list[Any]:
    data = rows[0][6]
    data["url"] = data["url"] + "-forged"
    return rows


def _refused(tmp_path: Path, bad: Path, said: str, name: str = "t") -> Result:
    target = tmp_path / name
    url = f"sqlite:///{target / 'monitor.db'}"
    refused = at(target, url, "restore", str(bad))
    assert refused.code == 2, (refused.out, refused.err)
    assert refused.err.count("\n") == 1 and said in refused.err, refused.err
    assert "Traceback" not in refused.err
    if (target / "monitor.db").exists():  # made by the migrations; every table empty
        assert count(url, events) == 0 and count(url, users) == 0
    assert not (target / "keys").exists()
    return refused


ROW_DAMAGE = {
    "a row with a value missing": ("events", lambda rows: [rows[0][:-1], *rows[1:]],
                                   "9 values for 10 columns"),
    "a blob that is not base64": ("blobs", lambda rows: [[*rows[0][:3], "!!", *rows[0][4:]],
                                                          *rows[1:]], "not a row this schema"),
    "a moment that is not one": ("events", _edited("recorded_at", "notadate"), "notadate"),
    "a line that is not JSON": ("events", lambda rows: [b'{"a":\n', *rows[1:]],
                                "not a row this schema"),
    "an empty required value": ("events", _edited("type", None), "type is empty"),
    "a string for a number": ("events", _edited("version", "1"), "holds a str, not a int"),
    "a row twice": ("events", lambda rows: [*rows, rows[0]], "refused by the database"),
    "an event's data changed": ("events", _other_data, "content was altered"),
}


def test_row_damage_and_an_altered_log_are_refused_with_nothing_written(
        source: Source, tmp_path: Path) -> None:
    """A forger who rewrites the manifest to match passes the sha256 checks: what the rows
    hold is checked as they load, and the log's hash chains before the commit (exit 2,
    never an internal error, the store left empty)."""
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup), "--kind", "logical").code == 0
    for n, (damage, (table, edit, said)) in enumerate(sorted(ROW_DAMAGE.items())):
        bad = _with_lines(backup, tmp_path / f"bad{n}.tar", table, edit)
        refused = _refused(tmp_path, bad, said, name=f"t{n}")
        assert "altered" in refused.err and "nothing was written" in refused.err, damage
    refused = _refused(tmp_path, _with_lines(backup, tmp_path / "forged.tar", "events",
                                             _other_data), "the log in it was altered")
    assert "(position 1)" in refused.err  # the first altered event, named
    # The members of two tables swapped (and the manifest made to match).
    manifest, bodies = _opened(backup)
    users_info, events_info = manifest["tables"]["users"], manifest["tables"]["events"]
    bodies[users_info["member"]] = bodies[events_info["member"]]
    users_info.update({k: events_info[k] for k in ("size", "sha256", "rows", "unpacked",
                                                   "longest_line")})
    _refused(tmp_path, _packed(tmp_path / "swap.tar", manifest, bodies),
             "10 values for 8 columns", name="swap")


def _with_copy(backup: Path, target: Path, sql: str) -> Path:
    """The SQLite-kind backup with `sql` run on its copy, its manifest recomputed."""
    manifest, bodies = _opened(backup)
    copy = target.with_suffix(".sqlite")
    copy.write_bytes(_unpack(bodies["store.sqlite.zst"]))
    with sqlite3.connect(copy) as conn:
        conn.executescript(sql)
    conn.close()
    raw = copy.read_bytes()
    bodies["store.sqlite.zst"] = zstandard.ZstdCompressor().compress(raw)
    _described(manifest["store"], bodies["store.sqlite.zst"])
    manifest["store"]["unpacked"] = len(raw)
    return _packed(target, manifest, bodies)


def test_row_damage_in_a_sqlite_copy_is_refused_too(source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup), "--kind", "sqlite").code == 0
    for n, (sql, said) in enumerate((
            ("UPDATE events SET recorded_at = 'yesterday' WHERE position = 2", "yesterday"),
            ("UPDATE events SET data = '{{{' WHERE position = 2", "not a row this schema"),
            ("UPDATE events SET type = 'NoSuchEvent' WHERE position = 2", "content was altered"),
            ("UPDATE users SET epoch = 'x'", "holds a str, not a int"))):
        _refused(tmp_path, _with_copy(backup, tmp_path / f"bad{n}.tar", sql), said,
                 name=f"t{n}")


def test_a_member_that_unpacks_beyond_the_manifest_is_refused_before_it_is_held(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bombs: a table or SQLite copy that unpacks to 3 MB more than the manifest's recorded
    size, and (a backup made before sizes were recorded) a line longer than the cap."""
    for kind in ("logical", "sqlite"):
        assert source.run("backup", "-o", str(tmp_path / f"{kind}.tar"), "--kind",
                          kind).code == 0
    manifest, bodies = _opened(tmp_path / "logical.tar")
    info = manifest["tables"]["users"]
    assert info["unpacked"] > 0 and info["longest_line"] > 0
    bomb = zstandard.ZstdCompressor().compress(b"[" + b" " * (3 << 20) + b"]\n")
    bodies[info["member"]] = bomb
    _described(info, bomb)
    _refused(tmp_path, _packed(tmp_path / "bomb.tar", manifest, bodies),
             "unpacks to more than", name="t1")
    # Made before the manifest said how large: the line cap holds (lowered here to 1 MB).
    for key in ("unpacked", "longest_line"):
        del info[key]
    monkeypatch.setattr("monitor.backup.read.LINE_MAX", 1 << 20)
    _refused(tmp_path, _packed(tmp_path / "old.tar", manifest, bodies),
             "has a line longer than 1,048,576 bytes", name="t2")

    manifest, bodies = _opened(tmp_path / "sqlite.tar")
    store = manifest["store"]
    packed = zstandard.ZstdCompressor().compress(bytes(store["unpacked"] + (3 << 20)))
    bodies["store.sqlite.zst"] = packed
    _described(store, packed)
    _refused(tmp_path, _packed(tmp_path / "sbomb.tar", manifest, bodies),
             "unpacks to more than", name="t3")


def test_a_manifest_that_is_too_large_or_of_the_wrong_types_is_refused(
        source: Source, tmp_path: Path) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup), "--kind", "logical").code == 0
    manifest, bodies = _opened(backup)
    big = tmp_path / "big.tar"
    with tarfile.open(big, "w") as out:
        body = json.dumps(manifest).encode() + b" " * (1 << 20)
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        out.addfile(info, io.BytesIO(body))
    _refused(tmp_path, big, "more than a backup's ever is", name="t1")
    manifest["tables"]["users"]["rows"] = str(manifest["tables"]["users"]["rows"])
    _refused(tmp_path, _packed(tmp_path / "str.tar", manifest, bodies),
             "tables.users.rows is not a whole number", name="t2")
    # A member that is a link, not a file.
    manifest, bodies = _opened(backup)
    linked = tmp_path / "link.tar"
    with tarfile.open(linked, "w", format=tarfile.PAX_FORMAT) as out:
        for name, body in [("manifest.json", json.dumps(manifest).encode()), *bodies.items()]:
            info = tarfile.TarInfo(name)
            if name == manifest["tables"]["users"]["member"]:
                info.type, info.linkname, body = tarfile.SYMTYPE, "/etc/passwd", b""
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    _refused(tmp_path, linked, "is not a plain file", name="t3")


def test_the_key_is_written_before_the_store_or_not_at_all(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backup = tmp_path / "b.tar"
    assert source.run("backup", "-o", str(backup), "--with-keys").code == 0
    target = tmp_path / "t"
    target.mkdir()
    (target / "keys").write_text("a file where the keys' folder goes")
    url = f"sqlite:///{target / 'monitor.db'}"
    refused = at(target, url, "restore", str(backup))
    assert refused.code == 2 and refused.err.count("\n") == 1, refused.err
    assert "cannot write" in refused.err and "nothing was written" in refused.err
    assert not (target / "monitor.db").exists()
    assert not (target / "witness.jsonl").exists()
    assert [p.name for p in target.iterdir()] == ["keys"]
    (target / "keys").unlink()
    (target / "keys" / "checkpoint.ed25519").mkdir(parents=True)  # a folder at its place
    refused = at(target, url, "restore", str(backup))
    assert refused.code == 2 and "is in the way" in refused.err, refused.err
    assert not (target / "monitor.db").exists()

    # A file that appears at the key's place after the commit: the restore is kept, and
    # the one line says how to take the key out of the backup.
    from monitor.cli import backup as command

    publish = command._Staged.publish

    def raced(self: Any) -> None:
        if self.member == "files/checkpoint.ed25519":
            self.path.write_text("someone else's")
        publish(self)

    monkeypatch.setattr(command._Staged, "publish", raced)
    other = tmp_path / "o"
    late = at(other, f"sqlite:///{other / 'monitor.db'}", "restore", str(backup))
    assert late.code == 1 and late.err.count("\n") == 1, late.err
    assert f"tar -xOf {backup} files/checkpoint.ed25519 > {other / 'keys'}" in late.err
    assert "the store was restored" in late.err
    assert count(f"sqlite:///{other / 'monitor.db'}", events) > 0
    assert (other / "witness.jsonl").exists()
    assert not [p for p in (other / "keys").iterdir() if "restoring" in p.name]


def test_two_backups_to_one_name_never_replace_each_other(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other backup finishes first (here: just before this one publishes): this one
    is refused in one line, the other's file is kept, no work folder is left."""
    from monitor.backup import write

    output = tmp_path / "x.tar"
    original = write._write_tar

    def other_first(partial: Path, folder: Path, manifest: dict[str, Any]) -> None:
        output.write_bytes(b"the other backup")
        original(partial, folder, manifest)

    monkeypatch.setattr(write, "_write_tar", other_first)
    refused = source.run("backup", "-o", str(output))
    assert refused.code == 2 and refused.err.count("\n") == 1, refused.err
    assert "exists" in refused.err
    assert output.read_bytes() == b"the other backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source", "x.tar"]


def test_a_killed_backups_work_folder_is_removed_a_day_later(
        source: Source, tmp_path: Path) -> None:
    old, young = tmp_path / ".monitor-backup-old", tmp_path / ".monitor-backup-young"
    for folder in (old, young):
        (folder / "tables").mkdir(parents=True)
        (folder / "tables" / "events.jsonl.zst").write_bytes(b"left by a kill -9")
    long_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (long_ago, long_ago))
    assert source.run("backup", "-o", str(tmp_path / "b.tar")).code == 0
    assert not old.exists() and young.exists()  # a younger one may be a running backup


def test_a_write_protected_sqlite_store_is_copied(source: Source, tmp_path: Path) -> None:
    """A store on a read-only mount (here: a folder and file with no write bits; its -wal
    file gone with its last writer): SQLite's online backup reads it through the read-only
    engine (`immutable`), and nothing is made beside it (no -shm: a mount would refuse)."""
    source.close()  # the last connection: the -wal and -shm files go
    database = source.folder / "monitor.db"
    before = sorted(p.name for p in source.folder.iterdir())
    assert "monitor.db-wal" not in before
    database.chmod(0o444)
    source.folder.chmod(0o555)
    try:
        made = source.run("backup", "-o", str(tmp_path / "ro.tar"), "--kind", "sqlite")
    finally:
        source.folder.chmod(0o755)
        database.chmod(0o644)
    assert made.code == 0, made.err
    assert sorted(p.name for p in source.folder.iterdir()) == before
    target = f"sqlite:///{tmp_path / 'r' / 'monitor.db'}"
    assert at(tmp_path / "r", target, "restore", str(tmp_path / "ro.tar")).code == 0
    assert rows(target, events) == rows(source.url, events)


def test_a_row_longer_than_a_restore_takes_is_refused_by_backup(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup never writes what its restore would refuse (the cap lowered here to 1 KB:
    the stored pages' raw captures are longer)."""
    monkeypatch.setattr("monitor.backup.write.LINE_MAX", 1024)
    refused = source.run("backup", "-o", str(tmp_path / "b.tar"), "--kind", "logical")
    assert refused.code == 2 and refused.err.count("\n") == 1, refused.err
    assert "table blobs's row" in refused.err and "--kind sqlite" in refused.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]
