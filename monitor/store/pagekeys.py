"""The page-key cache, read and written (see monitor.sources.pagekey and the table's
comment in monitor.store.schema). Keys are worth a lookup only next to the text
they were recorded for: each is stored with that text's hash and handed out only
for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.database import WRITE
from monitor.store.eventstore import Write
from monitor.store.schema import page_keys

log = logging.getLogger(__name__)

# Keys kept in memory per source besides the recorded one, each of which gave the
# source's current text: on a page whose noise rotates among a few variants the
# learner did not catch (a banner that came up the same on its three loads), a
# long-running checker sees each variant extracted once, then recognises them all.
OTHER_KEYS = 8


class PageKeys:
    """Per source: (content hash, page key). Thread-safe. A pass loads all keys at
    once (`load`); a lone check reads its source's row when it needs it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[str, tuple[str, str]] = {}
        self._others: dict[str, tuple[str, tuple[str, ...]]] = {}  # content hash, keys
        self._held: dict[str, int] = {}  # no relearning before (Unix seconds; relearn.py)
        self._lock = threading.Lock()
        # Built once (a check's write, on the hot path); values bound per execution.
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(page_keys)
        self._upsert = stmt.on_conflict_do_update(
            index_elements=["stream_id"],
            set_={"content_hash": stmt.excluded.content_hash,
                  "page_key": stmt.excluded.page_key})

    def load(self, stream_ids: Iterable[str] | None = None) -> None:
        """Read the keys of these sources (all when None) into memory."""
        query = select(page_keys)
        wanted = None if stream_ids is None else set(stream_ids)
        with self.engine.connect() as conn:
            rows = [(r.stream_id, r.content_hash, r.page_key, r.relearn_after)
                    for r in conn.execute(query)]
        with self._lock:
            for stream_id, content_hash, key, held in rows:
                if wanted is None or stream_id in wanted:
                    self._known[stream_id] = (content_hash, key)
                    if held:
                        self._held[stream_id] = held
            for stream_id in wanted or ():
                self._known.setdefault(stream_id, ("", ""))

    def get(self, stream_id: str, content_hash: str | None) -> str | None:
        """The key recorded for the source's text `content_hash`, if any."""
        if not content_hash:
            return None
        with self._lock:
            known = self._known.get(stream_id)
        if known is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(page_keys.c.content_hash, page_keys.c.page_key,
                                          page_keys.c.relearn_after)
                                   .where(page_keys.c.stream_id == stream_id)).first()
            known = ("", "") if row is None else (row.content_hash, row.page_key)
            with self._lock:
                self._known[stream_id] = known
                if row is not None and row.relearn_after:
                    self._held[stream_id] = row.relearn_after
        return known[1] if known[0] == content_hash else None

    def known(self, stream_id: str, content_hash: str | None
              ) -> tuple[str | None, frozenset[str]]:
        """The recorded key for the text `content_hash` (as `get`), and the other keys
        this process saw give that same text."""
        key = self.get(stream_id, content_hash)
        with self._lock:
            others = self._others.get(stream_id)
        if not content_hash or others is None or others[0] != content_hash:
            return key, frozenset()
        return key, frozenset(others[1])

    def put(self, stream_id: str, content_hash: str, key: str) -> None:
        """Record the key; a failure is logged, never raised (it is only a cache), and
        leaves the key unknown here so that a later check writes it again. The key it
        replaces for the same text is kept in memory (`known`)."""
        write = self.write(stream_id, content_hash, key)
        if write is None:
            return
        try:
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                write(conn)
        except SQLAlchemyError as exc:
            log.warning("could not record the page key of %s: %s", stream_id, exc)
            return
        self.recorded(stream_id, content_hash, key)

    def write(self, stream_id: str, content_hash: str, key: str) -> Write | None:
        """The upsert that records the key, for the caller's write transaction (a
        check's: with its events and ledger row); None when it is recorded already.
        Once that transaction has committed, the caller tells `recorded`; until then
        the key stays unknown here, so a rolled-back one is written again."""
        with self._lock:
            known = self._known.get(stream_id)
            if known == (content_hash, key):
                return None
            if known is not None and known[0] == content_hash and known[1]:
                hash_, kept = self._others.get(stream_id, (content_hash, ()))
                kept = tuple(k for k in kept if k != known[1]) if hash_ == content_hash else ()
                self._others[stream_id] = (content_hash, (*kept, known[1])[-OTHER_KEYS:])
        upsert = self._upsert
        values = {"stream_id": stream_id, "content_hash": content_hash, "page_key": key}

        def write(conn: Connection) -> None:
            conn.execute(upsert, values)

        return write

    def recorded(self, stream_id: str, content_hash: str, key: str) -> None:
        """The key's write (`write`) has committed."""
        with self._lock:
            self._known[stream_id] = (content_hash, key)

    def may_relearn(self, stream_id: str, now: float) -> bool:
        """Whether no failed relearning attempt holds this source off at `now` (Unix
        seconds). Read after `get`/`known` for the source, which load what is stored."""
        with self._lock:
            return self._held.get(stream_id, 0) <= now

    def hold(self, stream_id: str, until: int) -> Write:
        """No relearning for this source before `until`, here at once and in the store
        by the write returned, for the caller's transaction (a check's, after its key's
        upsert: the row exists then), so a new process (`check --all` from cron) holds
        off too. Only a cache, written with the check's ledger row."""
        with self._lock:
            self._held[stream_id] = until
        held = update(page_keys).where(page_keys.c.stream_id == stream_id) \
            .values(relearn_after=until)

        def write(conn: Connection) -> None:
            conn.execute(held)

        return write
