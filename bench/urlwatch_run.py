"""Driving urlwatch 2.29, the peer, on the same pages in the same run.

urlwatch lives in its own virtualenv under bench/.work, made by the bench, so it never
touches the project's. It runs with its documented command line (`--urls`, `--config`,
`--hooks`, `--cache`) and its own cache database; reporting goes to stdout only, in
`minimal` text form ("CHANGED: URL" per line), and e-mail stays disabled.

urlwatch 2.29 has no setting for its number of threads: it is the module constant
`urlwatch.worker.MAX_WORKERS` (10). The hooks file, which urlwatch imports before it
runs the jobs, sets it to the bench's concurrency, so both watchers have the same
number of requests in flight (the bench checks that on the server).

Two job configurations:
- `html2text`: the equal-effort one. Like `monitor add URL`, it says nothing about the
  page: fetch it, turn it into text, compare.
- `tuned`: what a user who studied this site would write: only `<article>`, with the
  view counter cut out by a regex. Shown for reference; it needs knowledge of each site.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.measure import Run, run, sqlite_bytes
from bench.tools import PassResult, page_number

VERSION = "2.29"
JQ = "jq>=1.6,<2"  # for urlwatch's `jq` filter (the tuned gov.kz API jobs)
FILTERS = {
    "html2text": "filter:\n  - html2text\n",
    "tuned": "filter:\n  - css: article\n  - html2text\n  - re.sub: 'Views: \\d+'\n",
    # The gov.kz API's item, as given: its JSON compared as text (equal effort).
    "plain": "",
    # The gov.kz API's item, by a user who read its JSON: the fields that are the
    # release (jq, which urlwatch 2.29 supports with the `jq` package), as text.
    "api-tuned": "filter:\n  - jq: '.title, .created_date, .body'\n  - html2text\n",
}
CONFIG = """\
display:
  new: true
  error: true
  unchanged: false
  empty-diff: true
report:
  text:
    minimal: true
    details: false
    footer: false
  stdout:
    enabled: true
    color: false
  email:
    enabled: false
"""


def ensure_venv(venv: Path) -> Path:
    """The urlwatch executable, installing urlwatch==2.29 into `venv` if needed."""
    exe = venv / "bin" / "urlwatch"
    python = venv / "bin" / "python"
    if exe.exists() and _installed_version(python) == VERSION and _has_jq(python):
        return exe
    if venv.exists():
        shutil.rmtree(venv)
    print(f"bench: installing urlwatch=={VERSION} into {venv} ...", flush=True)
    quiet_run([sys.executable, "-m", "venv", str(venv)])
    quiet_run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               f"urlwatch=={VERSION}", JQ])
    if _installed_version(python) != VERSION:
        raise RuntimeError(f"could not install urlwatch=={VERSION} into {venv}")
    return exe


def quiet_run(argv: list[str]) -> None:
    """Run a setup command; show its output only if it fails."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")


def _has_jq(python: Path) -> bool:
    return subprocess.run([str(python), "-c", "import jq"], capture_output=True).returncode == 0


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('urlwatch'))"],
        capture_output=True, text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


class UrlwatchWatcher:
    def __init__(self, workdir: Path, executable: Path, *, concurrency: int,
                 variant: str = "html2text") -> None:
        self.name = f"urlwatch/{variant}"
        self.workdir = workdir
        self.executable = executable
        self.concurrency = concurrency
        self.variant = variant
        self.cache = workdir / "cache.db"
        self._page_of: dict[str, int] = {}

    def prepare(self, urls: list[str]) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        (self.workdir / "home").mkdir(parents=True)
        jobs = "---\n".join(f"url: {url}\n{FILTERS[self.variant]}" for url in urls)
        self._write("urls.yaml", jobs)
        self._write("urlwatch.yaml", CONFIG)
        self._write("hooks.py", "import urlwatch.worker\n\n"
                                f"urlwatch.worker.MAX_WORKERS = {self.concurrency}\n")
        self._page_of = {url: page_number(url) for url in urls}

    def first_pass(self) -> PassResult:
        return self.check_pass()

    def check_pass(self) -> PassResult:
        done = self._run()
        verbs = [line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line]
        return PassResult(
            run=done,
            reported=frozenset(self._page_of[url] for verb, url in verbs if verb == "CHANGED"),
            failed=sum(verb == "ERROR" for verb, _ in verbs),
            outcomes=Counter(verb.lower() for verb, _ in verbs),
        )

    def store_bytes(self) -> int:
        return sqlite_bytes(self.cache)

    def _write(self, name: str, text: str) -> None:
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # urlwatch refuses hooks that others could write

    def _run(self) -> Run:
        home = self.workdir / "home"
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_CACHE_HOME": str(home / ".cache")}
        argv = [str(self.executable), "--urls", "urls.yaml", "--config", "urlwatch.yaml",
                "--hooks", "hooks.py", "--cache", str(self.cache)]
        return run(argv, cwd=self.workdir, env=env).check()
