"""Blobs as zstd deltas: round trips, chain caps, tampering, old zlib rows, migrations.

Every store here is a real SQLite file or PostgreSQL schema. Reads that must see what
the database holds (not what this process decoded before) use a fresh engine, as
another process would: each engine keeps its own cache of verified contents.
"""

from __future__ import annotations

import hashlib
import random
import zlib
from typing import Any

import pytest
import zstandard
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, insert, select, text, update

from monitor.errors import PersistenceError
from monitor.events import BaselineImported, SourceRegistered, VersionCaptured
from monitor.store import EventStore, migrate, open_store
from monitor.store.queries import table_rows
from monitor.store.schema import blobs, metadata, sources, versions
from monitor.store.search_index import DIALECT_TABLES
from monitor.store.snapshots import (
    LEVEL,
    MAX_DEPTH,
    Blob,
    BlobCache,
    get_blob,
    put_blobs,
)
from monitor.store.verify import verify_log

WORDS = ("ministry decree budget region council report reform court transport water "
         "energy health housing program service digital annual approved national").split()


def page_text(seed: int = 1, words: int = 1500) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words))


def page_html(body: str) -> bytes:
    paragraphs = "".join(f"<p>{body[i:i + 400]}</p>\n" for i in range(0, len(body), 400))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Decree</title>'
            f'</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>'
            f"<article><h1>Decree</h1>\n{paragraphs}</article>"
            f"<footer>Example Agency</footer></body></html>").encode()


def one_word_edited(text_: str, index: int = 700) -> str:
    words = text_.split(" ")
    words[index] = "zebra"
    return " ".join(words)


def put(store: EventStore, *items: Blob) -> None:
    with store.engine.begin() as conn:
        put_blobs(conn, items)


def row(store: EventStore, sha256: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(blobs).where(blobs.c.sha256 == sha256)).one()


def read_afresh(db_url: str, sha256: str) -> bytes:
    """What a reader with nothing cached gets."""
    fresh = open_store(db_url, check_schema=False)
    try:
        with fresh.engine.connect() as conn:
            return get_blob(conn, sha256)
    finally:
        fresh.engine.dispose()


def record_versions(store: EventStore, *pages: tuple[str, bytes]) -> list[tuple[Blob, Blob]]:
    """A source with these (text, raw) versions, each stored with the previous as base."""
    store.append("doc", 0, [SourceRegistered(name="doc", url="http://127.0.0.1/doc",
                                             kind="html", interval_seconds=60)])
    stored: list[tuple[Blob, Blob]] = []
    for number, (text_, raw_bytes) in enumerate(pages):
        before = stored[-1] if stored else None
        text_blob = Blob.text(text_, base=before[0].sha256 if before else None)
        raw_blob = Blob.raw(raw_bytes, base=before[1].sha256 if before else None)
        event: Any = (
            BaselineImported(content_hash=text_blob.sha256, origin="test",
                             raw_hash=raw_blob.sha256)
            if number == 0 else
            VersionCaptured(content_hash=text_blob.sha256, url="http://127.0.0.1/doc",
                            raw_hash=raw_blob.sha256)
        )
        store.append("doc", store.stream_version("doc"), [event], blobs=[text_blob, raw_blob])
        stored.append((text_blob, raw_blob))
    return stored


# --- round trips -------------------------------------------------------------------
def test_plain_and_delta_blobs_read_back(store, db_url: str) -> None:
    first = Blob.text(page_text())
    second = Blob.text(one_word_edited(page_text()), base=first.sha256)
    put(store, first, second)
    assert (row(store, first.sha256).codec, row(store, first.sha256).depth) == ("zstd", 0)
    stored = row(store, second.sha256)
    assert (stored.codec, stored.base, stored.depth) == ("zstd-delta", first.sha256, 1)
    assert read_afresh(db_url, first.sha256) == first.content
    assert read_afresh(db_url, second.sha256) == second.content
    with store.engine.connect() as conn:  # and through the writer's own (cached) engine
        assert get_blob(conn, second.sha256) == second.content


def test_a_chain_longer_than_max_depth_starts_again_with_a_plain_blob(store, db_url) -> None:
    text_ = page_text(2)
    chain: list[Blob] = []
    for step in range(MAX_DEPTH + 3):
        text_ = one_word_edited(text_, index=10 * step + 1)
        chain.append(Blob.text(text_, base=chain[-1].sha256 if chain else None))
    put(store, *chain)
    depths = [row(store, b.sha256).depth for b in chain]
    assert depths == [*range(MAX_DEPTH + 1), 0, 1]
    assert row(store, chain[MAX_DEPTH + 1].sha256).codec == "zstd"
    for blob in (chain[MAX_DEPTH], chain[-1]):
        assert read_afresh(db_url, blob.sha256) == blob.content


def test_a_base_missing_when_put_gives_a_plain_blob(store, db_url: str) -> None:
    blob = Blob.text(page_text(3), base="0" * 64)
    put(store, blob)
    stored = row(store, blob.sha256)
    assert (stored.codec, stored.base, stored.depth) == ("zstd", None, 0)
    assert read_afresh(db_url, blob.sha256) == blob.content


def test_a_blob_already_stored_is_left_as_it_is(store) -> None:
    base = Blob.text(page_text(4))
    plain = Blob.text(one_word_edited(page_text(4)))
    put(store, base, plain)
    before = row(store, plain.sha256)
    put(store, Blob.text(plain.content.decode(), base=base.sha256))
    assert row(store, plain.sha256) == before


def test_old_zlib_rows_still_read_and_serve_as_bases(store, db_url: str) -> None:
    old = page_text(5).encode()
    sha = hashlib.sha256(old).hexdigest()
    with store.engine.begin() as conn:  # as the code before deltas wrote it
        conn.execute(insert(blobs).values(sha256=sha, kind="text", size=len(old),
                                          body=zlib.compress(old, 6)))
    assert (row(store, sha).codec, row(store, sha).depth) == ("zlib", 0)
    assert read_afresh(db_url, sha) == old
    newer = Blob.text(one_word_edited(old.decode()), base=sha)
    put(store, newer)
    assert row(store, newer.sha256).codec == "zstd-delta"
    assert read_afresh(db_url, newer.sha256) == newer.content


def test_a_one_word_edit_of_a_10_kb_page_costs_a_fifth_of_plain(store) -> None:
    body = page_text(6)
    before_raw, after_raw = page_html(body), page_html(one_word_edited(body))
    assert 9_000 < len(after_raw) < 13_000
    [(_, _), (text_blob, raw_blob)] = record_versions(
        store, (body, before_raw), (one_word_edited(body), after_raw))
    stored = len(row(store, text_blob.sha256).body) + len(row(store, raw_blob.sha256).body)
    plain = sum(len(zstandard.ZstdCompressor(level=LEVEL).compress(b.content))
                for b in (text_blob, raw_blob))
    assert stored * 5 < plain, (stored, plain)


# --- tampering and verify ----------------------------------------------------------
def test_a_tampered_base_is_detected_by_get_blob_and_by_verify(store, db_url: str) -> None:
    body = page_text(7)
    [(first_text, _), (second_text, _)] = record_versions(
        store, (body, page_html(body)), (one_word_edited(body), page_html(one_word_edited(body))))
    assert verify_log(store.engine).intact
    forged = one_word_edited(body, index=3).encode()  # a valid body, other content
    with store.engine.begin() as conn:
        conn.execute(update(blobs).where(blobs.c.sha256 == first_text.sha256)
                     .values(body=zstandard.ZstdCompressor().compress(forged)))
    with pytest.raises(PersistenceError, match="does not match its hash"):
        read_afresh(db_url, second_text.sha256)
    report = verify_log(store.engine)
    assert not report.intact
    named = " ".join(report.problems)
    assert f"blob {first_text.sha256[:12]} (text)" in named
    assert f"blob {second_text.sha256[:12]} (text)" in named


def test_a_delta_pointed_at_another_base_is_detected(store, db_url: str) -> None:
    body = page_text(8)
    [(_, first_raw), (second_text, _)] = record_versions(
        store, (body, page_html(body)), (one_word_edited(body), page_html(one_word_edited(body))))
    with store.engine.begin() as conn:
        conn.execute(update(blobs).where(blobs.c.sha256 == second_text.sha256)
                     .values(base=first_raw.sha256))
    with pytest.raises(PersistenceError, match=second_text.sha256[:12]):
        read_afresh(db_url, second_text.sha256)
    assert any(second_text.sha256[:12] in p for p in verify_log(store.engine).problems)


def test_verify_names_missing_blobs_and_missing_bases(store) -> None:
    body = page_text(9)
    [(first_text, _), (second_text, second_raw)] = record_versions(
        store, (body, page_html(body)), (one_word_edited(body), page_html(one_word_edited(body))))
    with store.engine.begin() as conn:
        conn.execute(delete(blobs).where(blobs.c.sha256.in_([first_text.sha256,
                                                              second_raw.sha256])))
    problems = verify_log(store.engine).problems
    assert any(f"blob {second_text.sha256[:12]} (text)" in p and "base" in p and "missing" in p
               for p in problems), problems
    assert any(f"content_hash {first_text.sha256[:12]} is missing" in p and "event 2" in p
               for p in problems), problems
    assert any(f"raw_hash {second_raw.sha256[:12]} is missing" in p and "event 3" in p
               for p in problems), problems


# --- the cache ---------------------------------------------------------------------
def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = BlobCache(max_bytes=800)
    for n in range(8):
        cache.put(str(n), bytes(100))
    assert cache.get("0") is not None  # now the most recently used
    cache.put("8", bytes(100))
    assert cache.get("1") is None and cache.get("0") is not None and cache.get("8") is not None
    cache.put("huge", bytes(500))  # over an eighth of the budget: not kept
    assert cache.get("huge") is None


# --- schema and migrations -----------------------------------------------------------
def test_the_table_definitions_match_what_the_migrations_create(store) -> None:
    import monitor.alerts.schema
    import monitor.web.accounts.schema  # noqa: F401

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        # The search index is one dialect's own (an FTS5 virtual table and its shadow
        # tables, or a tsvector table and its GIN index): kept out of the metadata.
        left_out = {"alembic_version", *DIALECT_TABLES}
        differences = [d for d in compare_metadata(context, metadata)
                       if not ((d[0] == "remove_table" and d[1].name in left_out) or
                               (d[0] == "remove_index" and d[1].table.name in left_out))]
    assert differences == []


def test_down_to_0002_and_up_again_keeps_every_blob_readable(store, db_url: str) -> None:
    body = page_text(10)
    record_versions(store, (body, page_html(body)),
                    (one_word_edited(body), page_html(one_word_edited(body))))
    projected = table_rows(store.engine, versions), table_rows(store.engine, sources)
    assert projected[0][-1][-1] is not None, "versions.raw_hash is projected"

    migrate.downgrade(store.engine, "0002")
    with store.engine.connect() as conn:  # read the way the 0002 code reads
        stored = conn.execute(text("SELECT sha256, body FROM blobs")).all()
    assert len(stored) == 4
    for sha, compressed in stored:
        assert hashlib.sha256(zlib.decompress(compressed)).hexdigest() == sha
    old = page_text(11).encode()
    with store.engine.begin() as conn:  # and a blob written by 0002 code
        conn.execute(text("INSERT INTO blobs (sha256, kind, size, body) VALUES (:s, 'text', "
                          ":n, :b)"), {"s": hashlib.sha256(old).hexdigest(), "n": len(old),
                                        "b": zlib.compress(old, 6)})

    migrate.upgrade(store.engine)
    assert (table_rows(store.engine, versions), table_rows(store.engine, sources)) == projected
    with store.engine.connect() as conn:
        codecs = dict(conn.execute(select(blobs.c.sha256, blobs.c.codec)).tuples().all())
    assert set(codecs.values()) == {"zlib"}
    for sha in codecs:
        assert hashlib.sha256(read_afresh(db_url, sha)).hexdigest() == sha
    assert verify_log(store.engine).intact


# --- where the bases come from ---------------------------------------------------------
def test_checks_store_versions_as_deltas_on_the_previous_one_and_a_sibling_page(
    store, noisy_site, checker
) -> None:
    from monitor.catalog import register
    from monitor.config import SourceConfig
    from monitor.store.queries import list_versions

    for n in (1, 2):
        register(store, SourceConfig(name=f"p{n}", url=noisy_site.page_url(n), kind="html",
                                     interval_seconds=60))
        assert checker.check(f"p{n}").outcome == "captured"
    [first] = list_versions(store.engine, "p1")
    [sibling] = list_versions(store.engine, "p2")
    assert row(store, first.raw_hash).codec == "zstd"
    assert (row(store, sibling.raw_hash).codec, row(store, sibling.raw_hash).base) == (
        "zstd-delta", first.raw_hash), "a first capture uses the host's page as its base"

    page = noisy_site.page(1)
    noisy_site.edit_page(1, paragraphs=[one_word_edited(page.paragraphs[0], 2),
                                        *page.paragraphs[1:]])
    assert checker.check("p1").outcome == "changed"
    _, second = list_versions(store.engine, "p1")
    assert row(store, second.content_hash).base == first.content_hash
    assert row(store, second.raw_hash).base == first.raw_hash
    assert len(row(store, second.content_hash).body) < 200
    assert verify_log(store.engine).intact
