"""The web app at real size (issue 12, item 8): server time per page on a store of
10,000 sources and 100,000 versions, on SQLite and on PostgreSQL, beside
changedetection.io's watch list at 10,000 watches.

    python -m bench.web_bench [--postgres URL | --no-postgres] [--sources N --versions M]
                              [--requests K] [--no-peer] [--no-profile] [--results PATH]

Part of `python -m bench` (one more section of bench/RESULTS.md). Alone, it replaces
the "Web app at real size" section of bench/RESULTS.md (or --results). The store is
filled once and cached in bench/.work/web/ (bench/web_fill.py says how, and how it is
checked); the first fill at full size takes some minutes, later runs reuse it.
PostgreSQL (--postgres, else $MONITOR_TEST_POSTGRES_URL, else the local test server
if it answers) gets a copy of the store in a schema of its own, dropped afterwards.

Each page is served for real (monitor.web.app.create_app in uvicorn, WebThread, on
127.0.0.1), asked for by a client signed in with an API token (and `Accept:
text/html`, as a browser), 3 times to warm up and then --requests times (default 25),
one after another on one kept-alive connection. A page whose route is not in the app
yet is reported as "route not present", not as a failure of the run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from fastapi import FastAPI
from starlette.routing import Match

from bench import web_fill, web_peer, web_profile
from bench.pg import postgres_schema
from bench.sections import replace_section
from bench.web_appends import append_for_real
from bench.web_plan import DOC, DOC_VERSIONS, LONG, LONG_EDITS, LONG_WORDS, Size
from bench.web_timing import REQUESTS, Timed, time_page
from monitor.config import Config
from monitor.store import migrate, open_store
from monitor.store.database import open_engine
from monitor.web.accounts.tokens import create_token
from monitor.web.accounts.users import add_user, find_user
from monitor.web.app import create_app
from monitor.web.server import WebThread, base_url, bind

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "web"
HEADING = "## Web app at real size"
TARGETS = {"board": 300.0, "document": 200.0, "diff": 200.0, "search": 200.0}
COMMON_WORD = "министерство"
RARE_PHRASE = "«смертная казнь»"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"  # as bench/cluster_bench.py
REAL_APPEND_SOURCES = 30  # sources whose histories are also appended the real way, timed
Log = Callable[[str], None]


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    target: str  # a key of TARGETS


def pages() -> list[Page]:
    return [
        Page("board, first page", "/", "board"),
        Page("board, filtered: significance high, tag adilet", "/?significance=high&tag=adilet",
             "board"),
        Page("board, filtered: text «Министр»", "/?q=" + quote("Министр"), "board"),
        Page(f"document page, {DOC_VERSIONS} versions", f"/sources/{DOC}", "document"),
        Page(f"diff, two {LONG_WORDS:,}-word versions, {LONG_EDITS} scattered edits",
             f"/sources/{LONG}/diff?from=1&to=2", "diff"),
        Page(f"search, a common word ({COMMON_WORD})", "/search?q=" + quote(COMMON_WORD),
             "search"),
        Page(f"search, a rare phrase ({RARE_PHRASE})", "/search?q=" + quote(RARE_PHRASE),
             "search"),
    ]


@dataclass
class Run:
    database: str
    timed: list[tuple[Page, Timed]]
    profiles: dict[str, list[str]] = field(default_factory=dict)  # page label -> lines
    load: float = 0.0  # 1-minute load average when its pages were timed


@dataclass
class WebResults:
    size: Size
    runs: list[Run]
    peer: web_peer.PeerResult | None
    notes: list[str]
    seconds: float
    load: tuple[float, float]  # 1-minute load average at the start and at the end


def verdict(page: Page, timed: Timed) -> str:
    if not timed.measured:
        return "NO ROUTE" if timed.note == "route not present" else "MISSED"
    assert timed.median_ms is not None
    return "PASS" if timed.median_ms < TARGETS[page.target] else "MISSED"


def run(size: Size, *, postgres: str | None, requests_count: int = REQUESTS,
        peer: bool = True, profile: bool = True, append_rate: bool = True,
        work: Path = WORK, workers: int | None = None, log: Log = print) -> WebResults:
    started = time.monotonic()
    load = os.getloadavg()[0]
    notes: list[str] = []
    sqlite = web_fill.sqlite_store(work, size, log, workers=workers)
    runs = [measure(f"sqlite:///{sqlite}", "SQLite", requests_count, profile, work, log)]
    if append_rate:
        appends = work / "appends.db"
        _remove(appends)  # a run stopped half-way left it
        try:
            notes.append(real_append_rate(f"sqlite:///{appends}", size, "SQLite", log))
        finally:
            _remove(appends)
    if postgres:
        with web_fill.postgres_copy(postgres, sqlite, log) as url:
            runs.append(measure(url, "PostgreSQL", requests_count, profile, work, log))
        if append_rate:
            with postgres_schema(postgres) as url:
                notes.append(real_append_rate(url, size, "PostgreSQL", log))
    found = web_peer.run(sqlite, work, requests_count, log) if peer else None
    return WebResults(size, runs, found, notes, time.monotonic() - started,
                      (load, os.getloadavg()[0]))


def _remove(database: Path) -> None:
    for path in database.parent.glob(database.name + "*"):
        path.unlink()


@contextmanager
def served(url: str) -> Iterator[tuple[str, dict[str, str], FastAPI]]:
    """The app on a free loopback port, and the headers of a signed-in viewer."""
    store = open_store(url)
    app = create_app(Config(path=None, database_url=url), store)
    user = find_user(store.engine, "web-bench") or add_user(store.engine, "web-bench",
                                                            "viewer", None)
    token = create_token(store.engine, user.name, "web bench")[1]
    sock = bind("127.0.0.1:0")
    thread = WebThread(app, sock).start()
    try:
        yield base_url(sock), {"Authorization": f"Bearer {token}", "Accept": "text/html"}, app
    finally:
        thread.stop()
        store.engine.dispose()


def route_present(app: FastAPI, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path.split("?")[0], "root_path": "",
             "query_string": b"", "headers": []}
    return any(route.matches(scope)[0] != Match.NONE for route in app.routes)


def measure(url: str, database: str, requests_count: int, profile: bool, work: Path,
            log: Log) -> Run:
    found = Run(database, [])
    profiled: set[str] = set()
    with served(url) as (base, headers, app), requests.Session() as session:
        session.headers.update(headers)
        for page in pages():
            if not route_present(app, page.path):
                timed = Timed(page.label, page.path, 404, note="route not present")
            else:
                timed = time_page(session, base, page.label, page.path,
                                  requests_count=requests_count)
            found.timed.append((page, timed))
            log(f"web: {database}: {_line(page, timed)}")
            if (profile and timed.measured and verdict(page, timed) == "MISSED"
                    and page.target not in profiled):  # the first missed page of each kind
                profiled.add(page.target)
                found.profiles[page.label] = web_profile.profile_page(
                    session, base + page.path, work / f"profile-{database}.txt", log)
    found.load = os.getloadavg()[0]
    return found


def postgres_url(given: str | None, notes: list[str]) -> str | None:
    """The PostgreSQL server to use: the one given, else $MONITOR_TEST_POSTGRES_URL, else
    the local default; None (with a note saying why) when it does not answer."""
    import psycopg

    url = given or os.environ.get("MONITOR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure: not usable here
        problem = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        notes.append(f"PostgreSQL not measured: {url} does not answer ({problem}).")
        return None
    return url


def _line(page: Page, timed: Timed) -> str:
    if not timed.measured:
        return f"{page.label}: {timed.note}"
    app = f", app {timed.app_median_ms:.1f} ms" if timed.app_median_ms is not None else ""
    return (f"{page.label}: median {timed.median_ms:.1f} ms, p95 {timed.p95_ms:.1f} ms{app} "
            f"({timed.requests} requests, {timed.bytes / 1024:.0f} KiB) "
            f"target < {TARGETS[page.target]:.0f} ms: {verdict(page, timed)}")


def real_append_rate(url: str, size: Size, database: str, log: Log) -> str:
    """What EventStore.append costs a version here, on a few sources' histories."""
    small = Size(REAL_APPEND_SOURCES, max(REAL_APPEND_SOURCES + DOC_VERSIONS, 300),
                 size.seed)
    built = web_fill.build_rows(small, lambda line: None, workers=1)
    engine = open_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    appends, versions, seconds = append_for_real(url, built.steps)
    per_version = seconds / versions
    line = (f"the real append path (EventStore.append with its projectors, one append per "
            f"check) on {database}: {appends} appends holding {versions} versions in "
            f"{seconds:.1f} s, {per_version * 1000:.1f} ms per version; "
            f"{size.versions:,} versions that way would take about "
            f"{per_version * size.versions / 60:.1f} min, so the store is bulk-loaded "
            "(bench/web_fill.py) and checked with monitor verify's code.")
    log(f"web: {line}")
    return line


# --- the report ---------------------------------------------------------------------
def table(results: WebResults) -> list[list[str]]:
    peer = results.peer.timed if results.peer is not None else None
    compared = peer is not None and peer.measured and peer.median_ms
    head = ["page", "target"]
    for r in results.runs:
        head += [f"{r.database} median / p95 ms", f"{r.database} app ms", ""]
    if compared:
        head += [f"{r.database} / changedetection.io watch list" for r in results.runs]
    rows = [head]
    for i, page in enumerate(pages()):
        row = [page.label, f"< {TARGETS[page.target]:.0f} ms"]
        for r in results.runs:
            _, timed = r.timed[i]
            if timed.measured:
                app = f"{timed.app_median_ms:.1f}" if timed.app_median_ms is not None else "-"
                row += [f"{timed.median_ms:.1f} / {timed.p95_ms:.1f}", app]
            else:
                row += [timed.note, "-"]
            row.append(verdict(page, timed))
        if compared:
            assert peer is not None and peer.median_ms
            for r in results.runs:  # the board is the page that compares with a watch list
                ours = r.timed[i][1]
                row.append(f"{ours.median_ms / peer.median_ms:.2f}x"
                           if ours.median_ms is not None and page.target == "board" else "")
        rows.append(row)
    return rows


def section(results: WebResults, command: str) -> str:
    from bench.report import machine, markdown_table

    size = results.size
    loads = ", ".join([f"{r.database} {r.load:.1f}" for r in results.runs] + (
        [f"changedetection.io {results.peer.load:.1f}"] if results.peer and results.peer.timed
        else []))
    out = [HEADING, "",
           f"- command: `{command}` at {_commit()}; {results.seconds / 60:.1f} min; machine: "
           f"{machine()}; 1-minute load average {results.load[0]:.1f} at the start, "
           f"{results.load[1]:.1f} at the end, after each timing: {loads} (other work on "
           "the machine slows every figure; compare figures timed under a like load)",
           f"- store: {size.sources:,} sources, {size.versions:,} versions (seed {size.seed}): "
           "gov.kz-like releases of 300-1,500 words in Russian, Kazakh and English, each "
           "version 1-3 edits of the one before with its real ChangeDetected; failing, paused, "
           "removed and gone sources; a check ledger. How it is filled and checked: "
           "bench/web_fill.py (bench/README.md, \"The web app at real size\").",
           "- server time = wall time of a GET over loopback to the last byte, one request "
           "at a time on a kept-alive connection, signed in with an API token; median and "
           "p95 of the timed requests after 3 warm-up ones. \"app\" is the app's own "
           "Server-Timing (request in to answer started). A target is judged on the median.",
           "", markdown_table(table(results)), ""]
    if results.peer is not None:
        out += [f"- {results.peer.line()}"]
    out += [f"- {note}" for note in results.notes]
    for r in results.runs:
        for label, lines in r.profiles.items():
            out += ["", f"Where the time goes: {label} on {r.database} (py-spy, the app's "
                    "threads while the page is asked for again and again; the first missed "
                    "page of each kind):", "", "```", *lines, "```"]
    out.append("")
    return "\n".join(out)


def _commit() -> str:
    """The code measured: its commit, and whether its code (not its notes) had changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "monitor", "bench", ":!*.md"],
                               cwd=HERE.parent, text=True, capture_output=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "an unknown commit"
    return f"commit {head}{' with uncommitted changes' if dirty else ''}" if head else \
        "an unknown commit"


def write_section(path: Path, text: str) -> None:
    """Replaces the section in the results file, or adds it at the end."""
    replace_section(path, HEADING, text)


def verdicts(results: WebResults) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for the measured pages: the bench's targets table."""
    found = []
    for r in results.runs:
        for page, timed in r.timed:
            if timed.measured:
                found.append((f"web: {page.label} < {TARGETS[page.target]:.0f} ms "
                              f"({r.database}, median over loopback)",
                              f"{timed.median_ms:.1f} ms (p95 {timed.p95_ms:.1f})",
                              verdict(page, timed) == "PASS"))
    return found


def print_results(results: WebResults) -> None:
    from bench.report import text_table

    print(f"\nweb app at real size: {results.size.sources:,} sources, "
          f"{results.size.versions:,} versions")
    print(text_table(table(results)))
    if results.peer is not None:
        print(f"  {results.peer.line()}")
    for note in results.notes:
        print(f"  {note}")
    for r in results.runs:
        for label, lines in r.profiles.items():
            print(f"\n  where the time goes: {label} on {r.database}:")
            print("\n".join("    " + line for line in lines))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.sources < 3 or args.versions < args.sources + DOC_VERSIONS:
        print(f"web bench: --versions must be at least --sources + {DOC_VERSIONS} and "
              "--sources at least 3", file=sys.stderr)
        return 2
    if args.requests < 1:
        print("web bench: --requests must be at least 1", file=sys.stderr)
        return 2
    size = Size(args.sources, args.versions, args.seed)
    notes: list[str] = []
    postgres = None if args.no_postgres else postgres_url(args.postgres, notes)
    results = run(size, postgres=postgres, requests_count=args.requests, peer=not args.no_peer,
                  profile=not args.no_profile, work=args.work)
    results.notes[:0] = notes
    print_results(results)
    given = sys.argv[1:] if argv is None else list(argv)
    target = args.results or HERE / "RESULTS.md"
    write_section(target, section(results, " ".join(["python -m bench.web_bench", *given])))
    print(f"\nweb bench: section written to {target}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.web_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", help="PostgreSQL server URL (default: "
                   f"$MONITOR_TEST_POSTGRES_URL, else {DEFAULT_POSTGRES} if it answers)")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--sources", type=int, default=10_000)
    p.add_argument("--versions", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--requests", type=int, default=REQUESTS,
                   help=f"timed requests per page (default {REQUESTS})")
    p.add_argument("--no-peer", action="store_true", help="skip changedetection.io")
    p.add_argument("--no-profile", action="store_true", help="no profile of a missed page")
    p.add_argument("--results", type=Path, help="markdown file whose section to replace "
                   "(default bench/RESULTS.md)")
    p.add_argument("--work", type=Path, default=WORK, help=f"cache folder (default {WORK})")
    return p


if __name__ == "__main__":
    sys.exit(main())
