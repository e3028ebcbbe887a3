"""`python -m bench.mix`: the real mix, each beside urlwatch 2.29 in one run.

    python -m bench.mix             N=2000 pages and releases, 100 real pages
    python -m bench.mix --quick     N=200, 30 real pages, no profile (about 2 min)
    python -m bench.mix --pages 10 --corpus-pages 5 --no-profile   (the test's size)

Three parts, each a first pass, one unchanged pass, a change pass and (for the
generated sites) a one-word pass, the watchers taking turns (bench/mix_run.py):

1. `html`, change-heavy: the bench's noisy pages, a quarter of them edited in one
   pass (eight kinds of edit); beside urlwatch/html2text and urlwatch/tuned.
2. `govkz` through the API: gov.kz releases on the replica, whose JSON is written
   differently on every answer (key order, whitespace, escaping), a quarter edited;
   monitor's `govkz` kind beside urlwatch on the same API URL, as given
   (urlwatch/plain) and tuned with its `jq` filter (urlwatch/api-tuned).
3. real pages at their real size: the largest pages of the corpus
   (`MONITOR_CORPUS_DIR`), two unchanged passes, then one word edited inside each
   article; beside urlwatch/html2text. monitor's page-key hits on the unchanged
   passes are counted from its `page_keys` table (a hit leaves the row as it was; a
   miss extracts and writes the new key).

Figures per pass and watcher: pages/s (whole command), CPU ms per page (the child's
user + system time / N) and bytes stored per change (store growth / changes
reported). The targets of issue 13 item 2 are judged against the stronger of
urlwatch's two configurations on each figure, named in the verdict. Where one is
missed, one more change-heavy pass runs under py-spy and its samples are folded by
stage (bench/mix_profile.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import mix_report
from bench.corpus import corpus_dir
from bench.mix_profile import stage_lines, stages
from bench.mix_run import Part, run_part
from bench.mix_sites import CorpusSite, GovkzSite, PageSite
from bench.monitor_run import LEARNING_WORKERS, MonitorWatcher
from bench.profile import ensure_py_spy, profile_command
from bench.report import Verdict
from bench.tools import Watcher
from bench.urlwatch_run import UrlwatchWatcher, ensure_venv

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "mix"
FULL_PAGES = 2000
FULL_CORPUS = 100
QUICK_PAGES = 200
QUICK_CORPUS = 30
CONCURRENCY = 16
# Real pages of 0.2-1.6 MB: 128 threads learning them at once ran out of store
# connections (QueuePool) and hit a locked store on 2 busy CPUs; 32 still overlap
# the learner's waits.
CORPUS_LEARNING_WORKERS = 32


@dataclass
class MixResults:
    parts: list[Part] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    profiles: dict[str, list[str]] = field(default_factory=dict)  # kind -> stage lines
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run(pages: int = FULL_PAGES, corpus_pages: int = FULL_CORPUS, *, profile: bool = True,
        workdir: Path = WORK, urlwatch: Path | None = None,
        log: Callable[[str], None] = print) -> MixResults:
    started = time.monotonic()
    results = MixResults()
    load = os.getloadavg()[0]
    urlwatch = urlwatch or ensure_venv(HERE / ".work" / "urlwatch-venv")

    def watchers(kind: str, peers: tuple[str, ...]) -> list[Watcher]:
        out: list[Watcher] = [MonitorWatcher(
            workdir / kind / "monitor", concurrency=CONCURRENCY, kind=_kind(kind),
            learning_workers=CORPUS_LEARNING_WORKERS if kind == "corpus" else LEARNING_WORKERS)]
        out += [UrlwatchWatcher(workdir / kind / f"urlwatch-{v}", urlwatch,
                                concurrency=CONCURRENCY, variant=v) for v in peers]
        return out

    if pages:
        _generated(pages, watchers, results, profile=profile, workdir=workdir, log=log)
    _real(corpus_pages, watchers, results, log=log)
    results.verdicts = mix_report.verdicts(results.parts)
    results.notes.append(f"1-minute load average {load:.2f} before the mix, "
                         f"{os.getloadavg()[0]:.2f} after it.")
    results.seconds = time.monotonic() - started
    return results


def _generated(pages: int, watchers: Callable[[str, tuple[str, ...]], list[Watcher]],
               results: MixResults, *, profile: bool, workdir: Path,
               log: Callable[[str], None]) -> None:
    log(f"mix: html, N={pages}, a quarter of the pages edited in one pass")
    with PageSite(pages) as site:
        ws = watchers("html", ("html2text", "tuned"))
        results.parts.append(run_part("html", "html, change-heavy", site, ws, unchanged=1,
                                      log=log))
        if profile and mix_report.change_missed(results.parts[-1]):
            results.profiles["html"] = _profile(ws[0], site, workdir, "html", results.notes)
    log(f"mix: govkz through the API, N={pages}, JSON written anew on every answer")
    with GovkzSite(pages) as govkz:
        ws = watchers("govkz", ("plain", "api-tuned"))
        results.parts.append(run_part("govkz", "govkz through the API, change-heavy", govkz, ws,
                                      unchanged=1, log=log))
        if profile and mix_report.change_missed(results.parts[-1]):
            results.profiles["govkz"] = _profile(ws[0], govkz, workdir, "govkz", results.notes)


def _real(corpus_pages: int, watchers: Callable[[str, tuple[str, ...]], list[Watcher]],
          results: MixResults, *, log: Callable[[str], None]) -> None:
    directory = corpus_dir()
    if directory.is_dir() and corpus_pages:
        corpus = CorpusSite(directory, corpus_pages)
        sizes = sorted(corpus.sizes)
        log(f"mix: {corpus.pages} real pages of {directory}, {sizes[0] // 1024}-"
            f"{sizes[-1] // 1024} KB (median {sizes[len(sizes) // 2] // 1024} KB)")
        with corpus:
            ws = watchers("corpus", ("html2text",))
            results.parts.append(run_part(
                "corpus", f"real pages at their real size ({corpus.pages} largest of the corpus, "
                f"median {sizes[len(sizes) // 2] // 1024} KB)", corpus, ws, unchanged=2,
                word_pass=False, retries=2, log=log))
            retried = results.parts[-1].retried
            if retried:
                results.notes.append(
                    "real pages: first pass retried (untimed) for checks that failed: "
                    + ", ".join(f"{w} {n}x" for w, n in retried.items()))
    else:
        results.notes.append(f"no real-page corpus at {directory} (MONITOR_CORPUS_DIR): "
                             "the real-page part did not run.")


def _kind(part: str) -> str:
    return "govkz" if part == "govkz" else "html"


def _profile(watcher: Watcher, site: PageSite | GovkzSite, workdir: Path, kind: str,
             notes: list[str]) -> list[str]:
    """One more change-heavy pass of monitor under py-spy, folded by stage (not in the
    figures), after a word more was edited in each page the change pass edited."""
    assert isinstance(watcher, MonitorWatcher)
    try:
        py_spy = ensure_py_spy(HERE / ".work" / "py-spy-venv")
        site.again_edits()
        found = profile_command(py_spy, watcher.profile_command(), watcher.workdir,
                                workdir / f"profile-{kind}.txt", gil=False)
    except (OSError, RuntimeError, AssertionError) as exc:
        notes.append(f"no profile of the {kind} change pass: {exc}")
        return []
    return [f"{found.samples} samples ({found.seconds:.1f} s of running threads)",
            *stage_lines(stages(found.raw_path))]


def print_results(results: MixResults, log: Callable[[str], None] = print) -> None:
    for line in mix_report.text(results.parts):
        log(line)
    log("\ntargets of the real mix (issue 13 item 2, measured in this run):")
    for v in results.verdicts:
        log(f"  {'PASS' if v.passed else 'MISS'}  {v.target}: {v.measured}")
    for kind, lines in results.profiles.items():
        if lines:
            log(f"\nwhere monitor's change-heavy {kind} pass spends its time (py-spy, "
                "one more change pass, by stage):")
            log("\n".join("  " + line for line in lines))
    for note in results.notes:
        log(f"  note: {note}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.mix", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"N={QUICK_PAGES}, {QUICK_CORPUS} real pages, no profile")
    p.add_argument("--pages", type=int,
                   help=f"pages and releases (default {FULL_PAGES}; 0: real pages only)")
    p.add_argument("--corpus-pages", type=int,
                   help=f"largest real pages taken (default {FULL_CORPUS}; 0: none)")
    p.add_argument("--no-profile", action="store_true", help="no py-spy profile")
    p.add_argument("--results", type=Path,
                   help="write the section to this markdown file (replacing it there)")
    args = p.parse_args(argv)
    pages = args.pages if args.pages is not None else (
        QUICK_PAGES if args.quick else FULL_PAGES)
    corpus = args.corpus_pages if args.corpus_pages is not None else (
        QUICK_CORPUS if args.quick else FULL_CORPUS)
    results = run(pages, corpus, profile=not (args.quick or args.no_profile),
                  log=lambda line: print(line, flush=True))
    print_results(results, lambda line: print(line, flush=True))
    if args.results:
        mix_report.write_section(args.results, results, "python -m bench.mix "
                                 + " ".join(argv if argv is not None else sys.argv[1:]))
    print(f"\nmix: {results.seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
