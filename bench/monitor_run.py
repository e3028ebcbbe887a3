"""Driving govkz-monitor through its command line, as a user or cron would.

Each pass is one `monitor check --all --format json` process. The first pass also
learns each page's volatile elements (three loads per page, two of them a few seconds
apart), which a source does once in its life; it runs with more workers than the
timed passes so that those seconds of waiting overlap, and it is reported apart,
never in a ratio.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

from bench.measure import Run, run, sqlite_bytes, sqlite_tables
from bench.tools import PassResult, page_number
from monitor.diff import Change, Hunk

LEARNING_WORKERS = 128


class MonitorWatcher:
    name = "monitor"

    def __init__(self, workdir: Path, *, concurrency: int, kind: str = "html",
                 learning_workers: int = LEARNING_WORKERS) -> None:
        self.workdir = workdir
        self.kind = kind
        self.learning_workers = learning_workers
        self.concurrency = concurrency
        self.db = workdir / "monitor.db"
        self.config = workdir / "monitor.toml"
        self._page_of: dict[str, int] = {}

    def command(self, *args: str) -> list[str]:
        exe = Path(sys.executable).with_name("monitor")
        return [str(exe), "--config", str(self.config), *args]

    def prepare(self, urls: list[str]) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        self.config.write_text(
            "# written by the bench: every page is on 127.0.0.1, so no delay between requests\n"
            '[database]\nurl = "sqlite:///monitor.db"\n\n'
            f"[defaults]\nworkers = {self.concurrency}\n\n"
            f'[fetch]\nmin_delay_per_host = "0s"\nmax_concurrent_per_host = {self.concurrency}\n'
            "allow_private_networks = true\n",
            encoding="utf-8",
        )
        url_file = self.workdir / "urls.txt"
        url_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
        self._run("init")
        self._run("add", "--from-file", str(url_file), "--kind", self.kind, "--interval", "1h")
        sources = json.loads(self._run("sources", "--format", "json").stdout)
        self._page_of = {s["name"]: page_number(s["url"]) for s in sources}
        if len(self._page_of) != len(urls):
            raise RuntimeError(f"monitor registered {len(self._page_of)} of {len(urls)} pages")

    def first_pass(self) -> PassResult:
        return self._pass("--workers", str(max(self.learning_workers, self.concurrency)))

    def check_pass(self) -> PassResult:
        return self._pass("--workers", str(self.concurrency))

    def profile_command(self) -> list[str]:
        """The command of one timed pass, for a profiler to run."""
        return self.command("check", "--all", "--workers", str(self.concurrency),
                            "--format", "json")

    def store_bytes(self) -> int:
        return sqlite_bytes(self.db)

    def recorded_changes(self) -> dict[int, list[tuple[str, tuple[str, ...]]]]:
        """The ChangeDetected events in the log, per page: (significance, classes)."""
        found: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
        for line in self._run("events", "--json").stdout.splitlines():
            event = json.loads(line)
            if event["type"] == "ChangeDetected":
                data = event["data"]
                found.setdefault(self._page_of[event["stream_id"]], []).append(
                    (data["significance"], tuple(data["classes"])))
        return found

    def change_hunks(self) -> dict[int, list[list[Hunk]]]:
        """The hunks of every ChangeDetected in the log, per page, oldest first."""
        found: dict[int, list[list[Hunk]]] = {}
        for line in self._run("events", "--json").stdout.splitlines():
            event = json.loads(line)
            if event["type"] == "ChangeDetected":
                change = Change.from_dict(event["data"]["change"])
                found.setdefault(self._page_of[event["stream_id"]], []).append(
                    list(change.hunks))
        return found

    def current_text(self, page: int) -> str:
        """The text monitor stored last for page `page` ("" when none)."""
        from monitor.errors import UsageError
        from monitor.store import open_store
        from monitor.store.queries import version_text

        name = next(n for n, p in self._page_of.items() if p == page)
        store = open_store(f"sqlite:///{self.db}")
        try:
            return version_text(store.engine, name)[1]
        except UsageError:  # no version stored: the first check failed
            return ""
        finally:
            store.engine.dispose()

    def store_tables(self) -> dict[str, int]:
        """Bytes per table and index, to show where the store's bytes go."""
        return sqlite_tables(self.db)

    def _pass(self, *options: str) -> PassResult:
        done = run(self.command("check", "--all", *options, "--format", "json"),
                   cwd=self.workdir)
        if done.returncode != 1 or not done.stdout.startswith("{"):
            done.check()  # 1 with the summary: some checks ended in error, counted below
        summary = json.loads(done.stdout)
        results = summary["results"]
        return PassResult(
            run=done,
            reported=frozenset(self._page_of[r["source"]] for r in results
                               if r["outcome"] == "changed"),
            failed=sum(r["outcome"] in ("failed", "error", "removed") for r in results),
            outcomes=Counter(r["outcome"] for r in results),
            in_process_seconds=float(summary["seconds"]),
            failures={self._page_of[r["source"]]: f"{r['outcome']}: {r.get('detail') or ''}"
                      for r in results if r["outcome"] in ("failed", "error", "removed")},
        )

    def _run(self, *args: str) -> Run:
        return run(self.command(*args), cwd=self.workdir).check()
