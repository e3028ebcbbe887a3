"""Content-addressed blobs: each text or raw page stored once, compressed, often as a delta.

Consecutive versions of a page differ by a few words, so a new version is compressed
with zstd using a similar blob already stored (its `base`, usually the page's previous
version) as a raw-content dictionary: what the two share costs a few bytes of
back-reference, and a one-word edit of a 3 KB page stores ~150 bytes instead of ~1.2 KB.
This is Mercurial's revlog idea; like a revlog, chains are capped (MAX_DEPTH) so reading
one version never decodes more than a bounded number of its ancestors.

The sha256 stays the sha256 of the content itself, whatever the codec: every decode is
verified against it, so a tampered body or base makes the read fail loudly.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import zstandard
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from monitor.errors import PersistenceError
from monitor.store.schema import blobs

# Reading a version decodes its base chain: at most MAX_DEPTH deltas on top of one plain
# blob. 16 keeps a cold read of the worst version under ~17 small zstd decodes (well
# under a millisecond for pages), while a page that changes daily still starts a new
# plain blob only about twice a month.
MAX_DEPTH = 16

# Measured on a 3 KB noisy page with a one-word edit: level 3 gives 1242 B plain / 160 B
# delta in ~30 us, level 9 1225 / 155 in ~60 us, level 19 1202 / 149 in ~420 us. Blobs
# are kept forever and written once, so 9's few percent are worth 30 us a capture;
# 19's further 4% are not worth 14x the CPU on every new version.
LEVEL = 9

CODECS = ("zlib", "zstd", "zstd-delta")


@dataclass(frozen=True)
class Blob:
    sha256: str
    kind: str  # "text" (normalized canonical text) | "raw" (fetched bytes)
    content: bytes
    # A stored blob likely similar to this one (e.g. the page's previous version): only
    # a hint. If it is missing, too deep or does not help, the blob is stored plain.
    base: str | None = None

    @classmethod
    def text(cls, canonical_text: str, base: str | None = None) -> Blob:
        data = canonical_text.encode("utf-8")
        return cls(hashlib.sha256(data).hexdigest(), "text", data, base)

    @classmethod
    def raw(cls, content: bytes, base: str | None = None) -> Blob:
        return cls(hashlib.sha256(content).hexdigest(), "raw", content, base)


def put_blobs(conn: Connection, items: Iterable[Blob]) -> None:
    """Store blobs that are not stored yet; an existing one is left untouched. One at
    a time, so that a blob may take one stored just before it as its base."""
    for blob in items:
        insert_blobs(conn, encode_blobs(conn, [blob]))


def encode_blobs(conn: Connection, items: Iterable[Blob]) -> list[dict[str, Any]]:
    """The rows to store for these blobs, compressed (deltas where they help). Needs
    only to read: an appender does it before taking the write lock. A base found here
    stays valid, since no blob is ever deleted; a base among `items` is not stored yet,
    so it is not found (see put_blobs)."""
    rows = []
    for blob in items:
        codec, base, depth, body = _encode(conn, blob)
        rows.append({"sha256": blob.sha256, "kind": blob.kind, "size": len(blob.content),
                     "codec": codec, "base": base, "depth": depth, "body": body})
    return rows


def insert_blobs(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Insert encoded blob rows; a blob already stored is left untouched."""
    stmt = _NEW_BLOB[conn.dialect.name == "postgresql"]
    for row in rows:
        conn.execute(stmt, row)


# Built once, the values bound per execution (.values() per row cost more than the
# insert): by whether the dialect is PostgreSQL.
_NEW_BLOB = {is_pg: dialect.insert(blobs).on_conflict_do_nothing(index_elements=["sha256"])
             for is_pg, dialect in ((False, sqlite), (True, postgresql))}


def _encode(conn: Connection, blob: Blob) -> tuple[str, str | None, int, bytes]:
    """(codec, base, depth, body): a delta on the hinted base when that is smaller."""
    plain = zstandard.ZstdCompressor(level=LEVEL).compress(blob.content)
    if not blob.base or blob.base == blob.sha256:
        return "zstd", None, 0, plain
    base_depth = conn.execute(
        select(blobs.c.depth).where(blobs.c.sha256 == blob.base)
    ).scalar_one_or_none()
    if base_depth is None or base_depth + 1 > MAX_DEPTH:
        return "zstd", None, 0, plain
    try:
        base_content = get_blob(conn, blob.base)
    except PersistenceError:
        # A base that does not read back is `verify`'s to report; a new version must
        # not depend on it, and must not fail to be recorded because of it either.
        return "zstd", None, 0, plain
    delta = _compressor(base_content).compress(blob.content)
    if len(delta) >= len(plain):
        return "zstd", None, 0, plain
    return "zstd-delta", blob.base, base_depth + 1, delta


def _compressor(base_content: bytes) -> zstandard.ZstdCompressor:
    dictionary = zstandard.ZstdCompressionDict(
        base_content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
    )
    # No dict id (raw content has none) and no zstd checksum: the sha256 is the check.
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary, write_checksum=False,
                                    write_dict_id=False)


def get_blob(conn: Connection, sha256: str, cache: BlobCache | None = None) -> bytes:
    """A blob's content, decoded through its base chain and verified against its hash.

    `cache` defaults to the engine's cache of verified contents; `verify` passes its own
    so that it checks what the database holds, not what this process read before.
    """
    cache = cache if cache is not None else _engine_cache(conn.engine)
    found = cache.get(sha256)
    if found is not None:
        return found
    chain: list[tuple[str, Any]] = []  # from the blob down to a plain or cached one
    base_content: bytes | None = None
    current: str | None = sha256
    while current is not None:
        if current != sha256 and (base_content := cache.get(current)) is not None:
            break
        row = conn.execute(
            select(blobs.c.body, blobs.c.codec, blobs.c.base).where(blobs.c.sha256 == current)
        ).first()
        if row is None:
            if current == sha256:
                raise PersistenceError(f"snapshot {sha256[:12]} is missing from the store")
            raise PersistenceError(
                f"snapshot {sha256[:12]}: its base {current[:12]} is missing from the store"
            )
        if any(seen == current for seen, _ in chain):
            raise PersistenceError(f"snapshot {sha256[:12]}: its base chain loops")
        chain.append((current, row))
        current = row.base if row.codec == "zstd-delta" else None
    for digest, row in reversed(chain):
        base_content = _decode(digest, row, base_content)
        cache.put(digest, base_content)
    assert base_content is not None  # the chain holds at least the blob itself
    return base_content


def _decode(sha256: str, row: Any, base_content: bytes | None) -> bytes:
    try:
        if row.codec == "zlib":
            content = zlib.decompress(row.body)
        elif row.codec == "zstd":
            content = zstandard.ZstdDecompressor().decompress(row.body)
        elif row.codec == "zstd-delta" and base_content is not None:
            dictionary = zstandard.ZstdCompressionDict(
                base_content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            content = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(row.body)
        else:
            raise PersistenceError(f"snapshot {sha256[:12]} has an unknown codec {row.codec!r}")
    except (zlib.error, zstandard.ZstdError) as exc:
        raise PersistenceError(f"snapshot {sha256[:12]} does not decode ({exc})") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise PersistenceError(f"snapshot {sha256[:12]} does not match its hash")
    return content


def get_text(conn: Connection, sha256: str) -> str:
    return get_blob(conn, sha256).decode("utf-8")


class BlobCache:
    """A small LRU of decoded, verified blob contents, bounded in bytes.

    Contents are immutable by their hash, so an entry never goes stale. Without it,
    reading versions 1..n of a page would decode 1 + 2 + ... + n chain links.
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, sha256: str) -> bytes | None:
        with self._lock:
            content = self._entries.get(sha256)
            if content is not None:
                self._entries.move_to_end(sha256)
            return content

    def put(self, sha256: str, content: bytes) -> None:
        if len(content) > self.max_bytes // 8:
            return  # one huge document must not flush every page's chain
        with self._lock:
            if sha256 in self._entries:
                self._entries.move_to_end(sha256)
                return
            self._entries[sha256] = content
            self._bytes += len(content)
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)


# One cache per engine (per database): a blob another database holds says nothing
# about this one, and a new engine (another process, a test) reads the store afresh.
_CACHES: weakref.WeakKeyDictionary[Engine, BlobCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _engine_cache(engine: Engine) -> BlobCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = BlobCache()
        return cache


def _forget_locks_after_fork() -> None:
    global _CACHES_LOCK
    _CACHES_LOCK = threading.Lock()  # a lock held by another thread at fork stays held
    _CACHES.clear()


os.register_at_fork(after_in_child=_forget_locks_after_fork)


class RecentRaw:
    """The last raw blob stored per host, as the base for a source's first capture.

    Pages of one site share their template (head, navigation, footer), so a new page's
    raw bytes compress well against a sibling page's; thread-safe, checks run on threads.
    """

    def __init__(self) -> None:
        self._by_host: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> str | None:
        with self._lock:
            return self._by_host.get(_host(url))

    def remember(self, url: str, sha256: str) -> None:
        with self._lock:
            self._by_host[_host(url)] = sha256


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
