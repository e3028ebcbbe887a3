"""Make a real-page corpus for bench/corpus.py from trafilatura's evaluation data.

trafilatura's repository (github.com/adbar/trafilatura, Apache-2.0) keeps, for its own
evaluation, about a thousand saved pages in many languages (`tests/eval/`,
`tests/cache/`) and `tests/evaldata.json`, which maps each page's URL to its file, a
few text segments that belong to the main text ("with") and a few that do not
("without"). That data is theirs and is not shipped with this repository: this
importer reads it out of a clone (a bare git directory is enough, nothing is checked
out) and writes our corpus layout somewhere outside the repository:

    python -m bench.corpus import-trafilatura GITDIR OUTDIR [--rev REV]

Each page becomes `OUTDIR/<name>/page.html` (decoded as monitor decodes a page, written
as UTF-8) and `OUTDIR/<name>/truth.json`: {"url", "file", "origin", "with",
"without"}. A page whose file is missing, cannot be decoded, or has no "with" segment
is skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.content import UndecodableText, decode

EVALDATA = "tests/evaldata.json"
FOLDERS = ("tests/cache", "tests/eval")  # where a page's file may be, in this order
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass
class ImportCounts:
    written: int = 0
    missing_file: int = 0
    undecodable: int = 0
    no_segments: int = 0

    def line(self, out: Path) -> str:
        return (f"imported {self.written} pages into {out} (skipped: {self.missing_file} "
                f"without their file, {self.undecodable} undecodable, {self.no_segments} "
                "without a main-text segment)")


class GitBlobs:
    """Files of one revision of a git directory (bare or not), read through one
    `git cat-file --batch` process."""

    def __init__(self, gitdir: Path, rev: str) -> None:
        self.rev = rev
        self._proc = subprocess.Popen(
            ["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.commit = self._resolve(gitdir, rev)

    @staticmethod
    def _resolve(gitdir: Path, rev: str) -> str:
        done = subprocess.run(["git", "--git-dir", str(gitdir), "rev-parse", "--verify",
                               f"{rev}^{{commit}}"], capture_output=True, text=True)
        if done.returncode != 0:
            raise ValueError(f"{gitdir}: no commit {rev!r} there ({done.stderr.strip()})")
        return done.stdout.strip()

    def read(self, path: str) -> bytes | None:
        """The file's bytes at the revision, or None when it is not there."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"{self.commit}:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) != 3 or header[1] != "blob":
            return None  # "<object> missing", or a tree
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after the contents
        return data

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()


def page_name(url: str, file: str) -> str:
    """A folder name: the file's name made safe, and a hash of the URL to keep it unique."""
    stem = _UNSAFE.sub("-", Path(file).stem).strip("-")[:40] or "page"
    return f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def entries(evaldata: dict[str, object]) -> Iterator[tuple[str, str, list[str], list[str]]]:
    for url, entry in evaldata.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            continue
        with_ = [s for s in entry.get("with") or [] if isinstance(s, str) and s.strip()]
        without = [s for s in entry.get("without") or [] if isinstance(s, str) and s.strip()]
        yield url, entry["file"], with_, without


def import_trafilatura(gitdir: Path, out: Path, rev: str = "HEAD") -> ImportCounts:
    blobs = GitBlobs(gitdir, rev)
    try:
        raw = blobs.read(EVALDATA)
        if raw is None:
            raise ValueError(f"{gitdir}: no {EVALDATA} at {rev}")
        counts = ImportCounts()
        origin = f"adbar/trafilatura {EVALDATA} at {blobs.commit}"
        for url, file, with_, without in entries(json.loads(raw)):
            if not with_:
                counts.no_segments += 1
                continue
            data = next((d for d in (blobs.read(f"{folder}/{file}") for folder in FOLDERS)
                         if d is not None), None)
            if data is None:
                counts.missing_file += 1
                continue
            try:
                markup = decode(data)
            except UndecodableText:
                counts.undecodable += 1
                continue
            folder = out / page_name(url, file)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "page.html").write_text(markup, encoding="utf-8", errors="replace")
            truth = {"url": url, "file": file, "origin": origin,
                     "with": with_, "without": without}
            (folder / "truth.json").write_text(
                json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            counts.written += 1
        return counts
    finally:
        blobs.close()
