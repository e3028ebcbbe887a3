"""A command measured with its whole process tree: monitor and, for rendered sources,
Playwright's driver and chromium's browser, zygote, renderer and utility processes.

wait4(2)'s peak RSS is one process's; a browser's memory is in its children. So a
thread reads /proc every SAMPLE_SECONDS while the command runs: the tree (every process
whose parent chain reaches the command), each one's RSS (statm) and PSS (smaps_rollup:
shared pages split among the processes sharing them, so a tree's PSS sum counts
chromium's shared libraries once; its RSS sum counts them in every process), and which
are chromium browsers (the process without `--type=`, one a browser; its renderers
carry `--type=renderer`). CPU is wait4's user + system time of the command, which
counts every descendant the tree reaped (a recycled browser included).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.2
_PAGE = os.sysconf("SC_PAGE_SIZE")
BROWSER_NAMES = frozenset({"chromium", "chrome", "headless_shell", "chrome-headless-shell"})


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the start
    rss: int  # bytes, summed over the tree
    pss: int  # bytes, summed over the tree
    processes: int
    browsers: int  # chromium browser processes alive


@dataclass
class TreeRun:
    argv: tuple[str, ...]
    returncode: int = 0
    wall: float = 0.0
    cpu: float = 0.0  # seconds, user + system, the tree's reaped descendants included
    samples: list[Sample] = field(default_factory=list)
    browser_pids: set[int] = field(default_factory=set)  # every browser seen: launches
    stdout: str = ""
    stderr: str = ""

    @property
    def peak_rss(self) -> int:
        return max((s.rss for s in self.samples), default=0)

    @property
    def peak_pss(self) -> int:
        return max((s.pss for s in self.samples), default=0)

    @property
    def most_processes(self) -> int:
        return max((s.processes for s in self.samples), default=0)

    @property
    def most_browsers(self) -> int:
        return max((s.browsers for s in self.samples), default=0)


def run_tree(argv: Sequence[str], *, cwd: Path) -> TreeRun:
    """Run `argv` to its end, sampling its process tree; output kept in files, so a
    chatty child never blocks on a pipe."""
    found = TreeRun(tuple(argv))
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    done = threading.Event()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        sampler = threading.Thread(target=_sample, args=(proc.pid, started, found, done),
                                   daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        found.wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    found.returncode, found.cpu = proc.returncode, usage.ru_utime + usage.ru_stime
    found.stdout = out_path.read_text("utf-8", "replace")
    found.stderr = err_path.read_text("utf-8", "replace")
    return found


def tree(root: int) -> list[int]:
    """`root` and every live process descending from it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def is_browser(pid: int) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (os.path.basename(args[0].decode(errors="replace")) in BROWSER_NAMES
            and not any(a.startswith(b"--type=") for a in args))


def _sample(root: int, started: float, found: TreeRun, done: threading.Event) -> None:
    while not done.is_set():
        rss = pss = browsers = 0
        pids = tree(root)
        for pid in pids:
            rss += _rss(pid)
            pss += _pss(pid)
            if is_browser(pid):
                browsers += 1
                found.browser_pids.add(pid)
        found.samples.append(Sample(time.perf_counter() - started, rss, pss, len(pids),
                                    browsers))
        done.wait(SAMPLE_SECONDS)


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0
