"""What reading pages in a browser costs (issue 15, item 5): pages a second, CPU a page
and the memory of the whole process tree, for the same pages watched as plain sources
and as `render = true` sources; then a long run of rendered pages, which shows that
`[render] recycle_after` keeps the tree's memory bounded.

The pages (bench/render_site.py) are served from 127.0.0.1: pages of a real page's size
with a noisy article, every fourth one a JavaScript application whose script fetches its
text. Each set of sources is written in a monitor.toml (`[[sources]]` tables, `render =
true` for the rendered ones, `[render] max_browsers` and `recycle_after`), registered by
`monitor init` and checked by `monitor check --all` in one process (`--processes 1`), as
a user would: a first pass (it learns each page's noise: three loads, a few seconds
apart), then the timed pass, an ordinary check of every page. A plain fetch of a
JavaScript page reads nothing, so those fail as plain sources: that is why they render.

Measured on the timed pass (bench/tree_memory.py): wall time, CPU (the tree's: chromium
included), and the process tree's peak memory, sampled from /proc (PSS, shared pages
counted once, and RSS summed). The long run checks `--long` rendered sources with
`recycle_after` = `--recycle-after`: the tree's memory over time, and the browsers
launched. Until this monitor reads `render = true` (and finds chromium), the rendered
runs say "rendering not available" and the plain one is measured alone.

    python -m bench.render_cost [--pages 60] [--long 300] [--recycle-after 50]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.render_site import RenderCostSite
from bench.tree_memory import TreeRun, run_tree

WORKERS = 4
# A first pass that failed a source (a page that did not load within [render] timeout)
# is followed by this many more before the timed pass, so that it times second checks.
SETTLING_PASSES = 2
MAX_BROWSERS = 1
EXECUTABLE = "/usr/bin/chromium"
SHOWN_SAMPLES = 20
# Memory is bounded when the last third of the long run peaks no higher than this
# times the first third's peak (a leak of a page a load would grow it pass on pass).
BOUNDED = 1.25
MB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    label: str
    pages: int
    run: TreeRun
    outcomes: dict[str, int]
    seconds: float  # the pass's own, as the command reports it: its start and exit left out

    @property
    def per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_page(self) -> float:
        return self.run.cpu / self.pages

    def said(self) -> str:
        return ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))

    def line(self) -> str:
        said = self.said()
        launches = _count(len(self.run.browser_pids), "browser launch", "browser launches")
        return (f"  {self.label:<9} {self.pages} pages in {self.seconds:.1f} s "
                f"({self.run.wall:.1f} s with the command's start and exit): "
                f"{self.per_second:.1f} pages/s, CPU {self.cpu_per_page * 1000:.0f} ms a page, "
                f"peak memory {self.run.peak_pss / MB:.0f} MB PSS ({self.run.peak_rss / MB:.0f} "
                f"MB RSS summed) in {_count(self.run.most_processes, 'process', 'processes')} "
                f"at most, {launches} ({said})")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class Watcher:
    """One store and monitor.toml of sources, driven through the command line."""

    def __init__(self, work: Path, urls: list[str], *, render: bool, recycle_after: int,
                 executable: str) -> None:
        self.work = work
        self.pages = len(urls)
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        sources = "".join(f'[[sources]]\nname = "page-{n}"\nurl = "{url}"\nkind = "html"\n'
                          f'interval = "1h"\n' + ("render = true\n" if render else "") + "\n"
                          for n, url in enumerate(urls, 1))
        (work / "monitor.toml").write_text(
            "# written by bench/render_cost.py: every page is on 127.0.0.1\n"
            '[database]\nurl = "sqlite:///monitor.db"\n\n'
            f'[fetch]\nmin_delay_per_host = "0s"\nmax_concurrent_per_host = {WORKERS}\n'
            "allow_private_networks = true\n\n"
            + (f'[render]\nexecutable = "{executable}"\nmax_browsers = {MAX_BROWSERS}\n'
               f"recycle_after = {recycle_after}\n\n" if render else "")
            + sources, encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        exe = Path(sys.executable).with_name("monitor")
        return [str(exe), "--config", str(self.work / "monitor.toml"), *args]

    def init(self) -> str | None:
        """None, or why the store or its sources could not be set up (one line)."""
        done = run_tree(self.command("init"), cwd=self.work)
        if done.returncode == 0:
            return None
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        return lines[-1] if lines else f"monitor init exited {done.returncode}"

    def check_pass(self, label: str, workers: int, *, learn: bool = True) -> Measured:
        done = run_tree(self.command("check", "--all", "--workers", str(workers),
                                     "--processes", "1", "--format", "json",
                                     *(() if learn else ("--no-learn",))), cwd=self.work)
        if done.returncode not in (0, 1) or not done.stdout.startswith("{"):
            raise RuntimeError(f"monitor check exited {done.returncode}: {done.stderr[-2000:]}")
        summary = json.loads(done.stdout)
        outcomes: dict[str, int] = {}
        for result in summary["results"]:
            outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        return Measured(label, self.pages, done, outcomes, float(summary["seconds"]))


def rendering_problem(work: Path, url: str, executable: str) -> str | None:
    """Why rendered sources cannot be measured here, or None."""
    if not Path(executable).exists():
        return f"rendering not available: no chromium at {executable}"
    probe = Watcher(work, [url], render=True, recycle_after=100, executable=executable)
    problem = probe.init()
    return None if problem is None else f"rendering not available: {problem}"


def measure(urls: list[str], work: Path, *, render: bool, recycle_after: int,
            executable: str, shells: int = 0) -> tuple[Measured, Measured]:
    """The first (learning) pass and the timed pass over `urls`. Checks come back
    after learning's pause (check --all's revisits), so the first pass needs no more
    workers than the others: 32 at once in one browser timed out most pages. `shells`:
    the JavaScript pages among them, which fail as plain sources."""
    label = "rendered" if render else "plain"
    watcher = Watcher(work / label, urls, render=render, recycle_after=recycle_after,
                      executable=executable)
    if (problem := watcher.init()) is not None:
        raise RuntimeError(problem)
    first = watcher.check_pass(label, WORKERS)
    expected = 0 if render else shells
    settling = first
    for _ in range(SETTLING_PASSES):
        if settling.outcomes.get("failed", 0) <= expected:
            break
        settling = watcher.check_pass(label, WORKERS)
        print(f"  {label}: another pass for the sources a first check failed: "
              f"{settling.said()}")
    return first, watcher.check_pass(label, WORKERS)


def memory_over_time(run: TreeRun) -> str:
    step = max(1, len(run.samples) // SHOWN_SAMPLES)
    shown = run.samples[::step]
    every = run.wall / max(1, len(shown))
    return (f"  tree memory (MB PSS) about every {every:.1f} s: "
            + " ".join(f"{s.pss / MB:.0f}" for s in shown))


def bounded(run: TreeRun) -> tuple[bool, str]:
    third = max(1, len(run.samples) // 3)
    first = max((s.pss for s in run.samples[:third]), default=0)
    last = max((s.pss for s in run.samples[-third:]), default=0)
    ok = bool(first) and last <= BOUNDED * first
    return ok, f"first third's peak {first / MB:.0f} MB, last third's {last / MB:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.render_cost",
                                description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=60, help="pages of the plain/rendered runs")
    p.add_argument("--long", type=int, default=300, help="rendered pages of the long run "
                   "(0: none)")
    p.add_argument("--recycle-after", type=int, default=50)
    p.add_argument("--js-every", type=int, default=4, help="every Nth page is a JavaScript "
                   "application (0: none)")
    p.add_argument("--plain-only", action="store_true", help="measure plain sources only")
    p.add_argument("--executable", default=EXECUTABLE, help="chromium (default %(default)s)")
    p.add_argument("--work", type=Path, help="where the stores go (default: a temporary "
                   "directory, removed after)")
    args = p.parse_args(argv)
    if args.pages < 1 or args.long < 0 or args.recycle_after < 1 or args.js_every < 0:
        p.error("--pages and --recycle-after must be at least 1, --long and --js-every 0 or more")
    work = args.work or Path(tempfile.mkdtemp(prefix="render-cost-"))
    try:
        with RenderCostSite(pages=max(args.pages, args.long), js_every=args.js_every) as site:
            return _run(site, args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(site: RenderCostSite, args: argparse.Namespace, work: Path) -> int:
    urls = [site.page_url(n) for n in range(1, args.pages + 1)]
    js = sum(site.is_js(n) for n in range(1, args.pages + 1))
    print(f"{args.pages} pages ({js} of them JavaScript applications), {WORKERS} checks at "
          f"once in one process; the timed pass is each source's second check (the first "
          f"learns its noise)")
    plain_first, plain = measure(urls, work, render=False, recycle_after=args.recycle_after,
                                 executable=args.executable, shells=js)
    print(plain.line())
    problem = None if not args.plain_only else "rendering not measured (--plain-only)"
    problem = problem or rendering_problem(work / "probe", urls[0], args.executable)
    if problem:
        print(f"  rendered  {problem}")
        return 0
    rendered_first, rendered = measure(urls, work, render=True,
                                       recycle_after=args.recycle_after,
                                       executable=args.executable)
    print(rendered.line())
    print(f"  rendered / plain: {plain.per_second / rendered.per_second:.1f}x the time a "
          f"page, {rendered.cpu_per_page / plain.cpu_per_page:.1f}x the CPU, "
          f"{rendered.run.peak_pss / plain.run.peak_pss:.1f}x the memory")
    print(f"  first passes (learning): plain {plain_first.seconds:.1f} s "
          f"({plain_first.said()}), rendered {rendered_first.seconds:.1f} s "
          f"({rendered_first.said()})")
    if args.long:
        _long_run(site, args, work)
    return 0


def _long_run(site: RenderCostSite, args: argparse.Namespace, work: Path) -> None:
    urls = [site.page_url(n) for n in range(1, args.long + 1)]
    print(f"{args.long} rendered pages, [render] max_browsers = {MAX_BROWSERS}, "
          f"recycle_after = {args.recycle_after}:")
    first, timed = measure(urls, work / "long", render=True, recycle_after=args.recycle_after,
                           executable=args.executable)
    for name, measured in (("first pass (learning: 4 loads a page)", first),
                           ("second pass (1 load a page)", timed)):
        print(f"  {name}: {measured.seconds:.1f} s ({measured.said()}), "
              f"{len(measured.run.browser_pids)} browser launches, at most "
              f"{measured.run.most_browsers} at once")
        print(memory_over_time(measured.run))
        ok, said = bounded(measured.run)
        print(f"  memory bounded ({said}, at most {BOUNDED}x): {'PASS' if ok else 'MISS'}")
    most = max(first.run.most_browsers, timed.run.most_browsers)
    print(f"  at most max_browsers = {MAX_BROWSERS} browser at once: "
          f"{'PASS' if most <= MAX_BROWSERS else 'MISS'} ({most})")


if __name__ == "__main__":
    raise SystemExit(main())
