"""Where a change pass's time goes, by stage: py-spy's raw samples of one pass
(bench/profile.py) folded into the stages a change goes through.

Each sample is put in one stage: "start-up (imports)" when a module is being
imported, "write lock" when it waits at BEGIN IMMEDIATE for SQLite's write lock,
"fsync/commit" when a commit is on its stack,
else the innermost monitor module on the stack that belongs to a stage (so the
projections an append runs count as projections, not events), else the library
running. Sampled without `--gil`: a thread waiting in fsync or in SQLite holds no GIL
but is busy, and the stages are to show that too (py-spy leaves idle threads out).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# (stage, path prefixes), in the order they are tried on each frame.
MONITOR_STAGES = (
    ("diff", ("monitor/diff.py", "monitor/align.py", "monitor/pairing.py")),
    ("classification", ("monitor/classify.py", "monitor/numbers.py", "monitor/changes/",
                        "monitor/signposts.py", "monitor/moments.py")),
    ("projections", ("monitor/store/projections.py", "monitor/store/search_index.py",
                     "monitor/search/")),
    ("blobs", ("monitor/store/snapshots.py",)),
    ("events", ("monitor/store/eventstore.py", "monitor/events.py", "monitor/event_data.py",
                "monitor/store/mapper.py", "monitor/evidence/", "monitor/store/pagekeys.py")),
    ("extraction", ("monitor/sources/", "monitor/normalize.py", "monitor/document.py",
                    "monitor/content.py")),
    ("fetch", ("monitor/fetch.py", "monitor/politeness.py", "monitor/netguard.py",
               "monitor/fetch_failures.py")),
)
LIBRARY_STAGES = (
    ("diff", ("rapidfuzz", "difflib")),
    ("blobs", ("zstandard", "zstd")),
    ("extraction", ("trafilatura", "htmldate", "justext", "lxml", "bs4", "courlan",
                    "dateparser", "charset_normalizer", "html")),
    ("fetch", ("requests", "urllib3", "http", "ssl", "socket", "httpx", "httpcore")),
    ("database, other", ("sqlalchemy", "sqlite3", "monitor/store/")),
    ("threads and processes", ("threading.py", "multiprocessing/", "concurrent/", "queue.py")),
)


def stages(raw: Path) -> list[tuple[str, int]]:
    """(stage, samples), most first, from py-spy's raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[stage_of(stack.split(";"))] += int(count)
    return counts.most_common()


def stage_of(frames: list[str]) -> str:
    files = [(f.partition(" (")[0], f.rpartition(" (")[2].rstrip(")")) for f in frames
             if not f.startswith("process ")]  # py-spy's root frame, one per process
    if not files:
        return "native code (no Python frame)"
    if any(path.startswith("<frozen importlib") or (function == "<module>" and i > 0)
           for i, (function, path) in enumerate(files)):  # [0]: the script itself
        return "start-up (imports)"
    if any(function.endswith("_on_begin") and path == "monitor/store/database.py"
           for function, path in files):
        return "write lock (BEGIN IMMEDIATE)"  # a writer queued on SQLite's write lock
    if any("commit" in function and ("sqlalchemy" in path or "sqlite" in path
                                     or path.startswith("monitor/store/"))
           for function, path in files):
        return "fsync/commit"
    for table in (MONITOR_STAGES, LIBRARY_STAGES):
        for _, path in reversed(files):
            for name, prefixes in table:
                if path.startswith(prefixes):
                    return name
    return "other"


def stage_lines(found: list[tuple[str, int]]) -> list[str]:
    total = sum(n for _, n in found) or 1
    return [f"{100 * n / total:5.1f}%  {name} ({n} samples)" for name, n in found]
