# ruff: noqa: RUF001  (Cyrillic and Kazakh words, written so on purpose)
"""Search, timed: `monitor.search.query.search` over a store of many versions.

    python -m bench.search_bench [VERSIONS] [--database URL]
        (default 100,000 versions of 10,000 documents, in a SQLite file in a temporary
        folder; a few minutes to build)

The store is built straight into the projections the search reads (`sources`,
`versions`, `blobs` as deltas on the previous version, the search index), not through
the log: what is timed is the search, not the appends. A store already built at
--database is searched as it is. Texts are about 400 words of a Russian-like
vocabulary (Zipf-distributed, 30,000 words), each version a few words edited from the
previous one; 0.5% of the documents say «смертная казнь» in their first versions and
drop it later. Each query is timed once with its texts read from the database, then
as the median of 5 runs (wall clock, and CPU time in this process: on SQLite that is
all of it, on PostgreSQL the server's share is not in it).

Measured on 2 busy cores, 100,000 versions (first run / later runs): SQLite 3.40 every
query under 60 / 16 ms; PostgreSQL 15 every query under 260 / 70 ms but a phrase whose
words most versions hold apart («суд решение права»: 90,000 candidates to check),
which stops at monitor.search.matching.PHRASE_BUDGET (1 s) and says so. The index:
114 MB in SQLite (1.1 KB a version), 700 MB in PostgreSQL (7 KB: a tsvector per
version), beside 19 MB / 49 MB of blobs.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from monitor.document import Document
from monitor.search.query import search
from monitor.store import migrate, open_store
from monitor.store.schema import sources, versions
from monitor.store.search_index import index_texts
from monitor.store.snapshots import Blob, encode_blobs, insert_blobs

PER_DOCUMENT = 10
SYLLABLES = ("ка на ро ст ви ле ти ко ми да пр ов ен ра ни ре об ль за го по де ту "
             "ма жи ны ще шк қа ға ұл ің").split()
QUERIES = (
    ("rare phrase, across documents", "«смертная казнь»", None),
    ("common word, across documents", "и", None),
    ("two words", "республики закон", None),
    ("phrase of common words", "«и в»", None),
    ("rarer phrase of common words", "«суд решение права»", None),
    ("prefix", "пра*", None),
    ("phrase within one document", "«смертная казнь»", "doc-00000"),
    ("common word within one document", "и", "doc-00001"),
    ("no hit", "несуществующееслово", None),
)


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    common = ("и в на с по о для что года республики закон министерства права "
              "казахстан суд решение").split()
    made = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5)))
            for _ in range(size * 2)}
    return common + sorted(made)[:size - len(common)]


def build(engine: Engine, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    start = datetime(2025, 1, 1)
    position = 0
    documents = max(1, count // PER_DOCUMENT)
    conn = engine.connect()
    conn.begin()
    for number in range(documents):
        name = f"doc-{number:05d}"
        paragraphs = [" ".join(rng.choices(words, cum_weights=weights, k=rng.randint(40, 80)))
                      for _ in range(rng.randint(5, 8))]
        said = number % 200 == 0
        rows, texts, blobs = [], [], []
        previous: str | None = None
        for version in range(1, PER_DOCUMENT + 1):
            body = list(paragraphs)
            if said and version <= PER_DOCUMENT // 2:
                body[0] = "Смертная казнь отменена. " + body[0]
            canonical = Document(f"Документ {number}", None, tuple(body)).canonical_text()
            blob = Blob.text(canonical, base=previous)
            previous = blob.sha256
            position += 1
            at = start + timedelta(minutes=position)
            rows.append({"stream_id": name, "document_version": version,
                         "content_hash": blob.sha256, "event_position": position,
                         "captured_at": at, "origin": "captured",
                         "title": f"Документ {number}"})
            texts.append((position, name, canonical))
            blobs.append(blob)
            edited = rng.randrange(len(paragraphs))
            paragraph = paragraphs[edited].split()
            paragraph[rng.randrange(len(paragraph))] = rng.choices(words, cum_weights=weights)[0]
            paragraphs[edited] = " ".join(paragraph)
        if True:
            conn.execute(insert(sources).values(
                stream_id=name, name=name, url=f"https://example.kz/{name}", kind="html",
                interval_seconds=3600, ignore=[], volatile=[], follow=False, options={},
                state="active", stream_version=PER_DOCUMENT + 1,
                document_version=PER_DOCUMENT, content_hash=previous,
                title=f"Документ {number}", failures=0, registered_at=start,
                last_event_position=position))
            conn.execute(insert(versions), rows)
            for blob in blobs:  # one at a time: each is a delta on the one before
                insert_blobs(conn, encode_blobs(conn, [blob]))
            index_texts(conn, texts)
        if number % 1000 == 999:
            conn.commit()
            conn.begin()
            print(f"  {number + 1} documents", flush=True)
    conn.commit()
    conn.close()


def timed(engine: Engine, query: str,
          source: str | None) -> tuple[float, float, float, float, str]:
    """The first run's wall and CPU time, the median wall and CPU time of 5 later runs
    (CPU: in this process), and the hits.
    The first run reads its texts from the database; the later ones find them in the
    engine's cache of decoded texts."""
    started, used = time.perf_counter(), time.process_time()
    result = search(engine, query, source=source)
    first = time.perf_counter() - started
    first_cpu = time.process_time() - used
    runs, cpu = [], []
    for _ in range(5):
        started, used = time.perf_counter(), time.process_time()
        search(engine, query, source=source)
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    hits = f"{len(result.hits)}{'' if result.complete else ' (stopped: phrase budget)'}"
    return first, first_cpu, statistics.median(runs), statistics.median(cpu), hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="?", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file); "
                        "a store already built there is searched as it is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'search.db'}"
        store = open_store(url, check_schema=False)
        migrate.upgrade(store.engine)
        with store.engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(versions)).scalar_one()
        if not held:
            started = time.perf_counter()
            build(store.engine, args.versions)
            print(f"built {args.versions} versions in {time.perf_counter() - started:.0f} s")
            held = args.versions
        print(f"searching {held} versions ({store.engine.dialect.name})")
        store.engine.dispose()
        store = open_store(url)  # a fresh engine: no text cached by the build
        search(store.engine, "разминка")  # the process's own first-query costs, not timed
        print(f"{'query':<34} {'first ms':>9} {'CPU':>6} {'then ms':>8} {'CPU':>6} "
              f"{'hits':>5}")
        for label, query, source in QUERIES:
            first, first_cpu, then, cpu, hits = timed(store.engine, query, source)
            print(f"{label:<34} {first * 1000:9.1f} {first_cpu * 1000:6.1f} "
                  f"{then * 1000:8.1f} {cpu * 1000:6.1f} {hits:>5}")
        store.engine.dispose()


if __name__ == "__main__":
    main()
