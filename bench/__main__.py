"""`python -m bench` (`make bench`): govkz-monitor against urlwatch 2.29 on noisy pages.

    python -m bench                 N=200 and N=2000, writes bench/RESULTS.md
    python -m bench --sizes 200     one size (results go to bench/.work/RESULTS.md)
    python -m bench --quick         N=200, one timed pass, no reference run, no profile,
                                    no measured day
    python -m bench.diff_bench      only the diff's worst cases (a few seconds)
    python -m bench.corpus          only the real-page corpus (MONITOR_CORPUS_DIR);
                                    `python -m bench.corpus import-trafilatura` makes one
    python -m bench.api_body_bench  only gov.kz API bodies, BeautifulSoup against lxml
    python -m bench.web_bench       only the web app at real size (10,000 sources,
                                    100,000 versions) beside changedetection.io
    python -m bench.mix [--quick]   only the real mix: a busy day (25% edited) on pages
                                    and on the gov.kz API, and real pages at their size

See bench/README.md for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from bench import (
    api_body_bench,
    diff_bench,
    evidence_bench,
    ledger_bench,
    mix,
    mix_report,
    report,
    web_bench,
)
from bench.corpus import CORPUS_SAMPLE, CORPUS_SEED, corpus_dir, run_corpus
from bench.day import run_day
from bench.figures import Figures, figures
from bench.measure import cpu_count
from bench.monitor_run import LEARNING_WORKERS, MonitorWatcher
from bench.profile import Profile, ensure_py_spy, profile_command
from bench.scenario import PROBE_DELAY, Scenario, probe_concurrency, run_scenario
from bench.tools import Watcher
from bench.urlwatch_run import UrlwatchWatcher, ensure_venv

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
FULL_SIZES = (200, 2000)
DAY_PAGES = 200  # the measured day: 24 passes of both watchers, about 2 minutes


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = (200,) if args.quick and args.sizes is None else tuple(args.sizes or FULL_SIZES)
    full = sorted(sizes) == sorted(FULL_SIZES) and not args.quick
    results_path = args.results or (HERE / "RESULTS.md" if full else WORK / "RESULTS.md")
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m bench", shlex.join(given)]).strip()
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    WORK.mkdir(exist_ok=True)
    diff_verdicts = diff_bench.run(log=lambda line: print(line, flush=True))
    corpus = run_corpus(corpus_dir(), WORK / "corpus", sample=args.corpus_sample or None,
                        seed=CORPUS_SEED,
                        log=lambda line: print(line, flush=True))
    body_costs = api_body_bench.run(log=lambda line: print(line, flush=True))
    notes: list[str] = []
    evidence_verdicts = _evidence(notes, quick=args.quick)
    urlwatch = ensure_venv(WORK / "urlwatch-venv")

    scenarios: list[tuple[Scenario, list[Figures], list[str]]] = []
    profile: Profile | None = None
    notes += [
        "monitor's first pass learns each page's volatile elements (three loads, two of "
        "them 3 s apart) "
        f"and runs with --workers {LEARNING_WORKERS} so the waits overlap; it is timed "
        "apart and is in no ratio.",
    ]
    probed = probe_concurrency(
        [MonitorWatcher(WORK / "probe" / "monitor", concurrency=args.concurrency),
         UrlwatchWatcher(WORK / "probe" / "urlwatch", urlwatch, concurrency=args.concurrency)],
        args.concurrency)
    line = ", ".join(f"{name} {most}" for name, most in probed.items())
    print(f"bench: most requests in flight on a slowed server: {line} "
          f"(both should be {args.concurrency})", flush=True)
    notes.append(f"concurrency probe (server answers after {PROBE_DELAY} s): most requests in "
                 f"flight {line}; both are set to {args.concurrency}.")
    for n in sizes:
        passes = args.passes or (1 if args.quick else 5 if n <= 500 else 3)
        watchers: list[Watcher] = [
            MonitorWatcher(WORK / f"n{n}" / "monitor", concurrency=args.concurrency),
            UrlwatchWatcher(WORK / f"n{n}" / "urlwatch", urlwatch, concurrency=args.concurrency),
        ]
        if not (args.quick or args.no_tuned):
            watchers.append(UrlwatchWatcher(WORK / f"n{n}" / "urlwatch-tuned", urlwatch,
                                            concurrency=args.concurrency, variant="tuned"))
        print(f"bench: N={n}, {passes} unchanged passes, {len(watchers)} watchers", flush=True)
        scenario, site = run_scenario(n, watchers, passes=passes, concurrency=args.concurrency,
                                      log=lambda line: print(line, flush=True))
        try:
            if n == max(sizes) and not (args.quick or args.no_profile):
                profile = _profile(watchers[0], n, notes)
        finally:
            site.__exit__(None, None, None)
        results = [figures(scenario, r) for r in scenario.runs]
        classified = _classification(scenario, watchers[0], notes)
        scenarios.append((scenario, results, classified))
        if profile is not None and n == max(sizes):
            cpu = results[0].cpu_ms_per_page * n / 1000
            notes.append(f"profile: the sampled pass held the GIL {profile.seconds:.1f} s; a "
                         f"timed pass at N={n} used {cpu:.1f} s CPU; the difference ran "
                         "without the GIL (native parsing, SQLite, sockets) or was not sampled.")
        _print_scenario(scenario, results, classified)
        notes += _notes(scenario, results)

    day = None
    if not (args.quick or args.no_day):
        print(f"bench: a day of hourly checks at N={DAY_PAGES}, measured", flush=True)
        day_watchers: list[Watcher] = [
            MonitorWatcher(WORK / "day" / "monitor", concurrency=args.concurrency),
            UrlwatchWatcher(WORK / "day" / "urlwatch", urlwatch, concurrency=args.concurrency),
        ]
        if not args.no_tuned:
            day_watchers.append(UrlwatchWatcher(WORK / "day" / "urlwatch-tuned", urlwatch,
                                                concurrency=args.concurrency, variant="tuned"))
        day = run_day(DAY_PAGES, day_watchers, log=lambda line: print(line, flush=True))
        print(f"\n{report.day_heading(day)}")
        print(report.text_table(report.day_table(day)))
        print(f"  {report.DAY_NOTE}")

    mixed = None
    if not (args.quick or args.no_mix):
        print("bench: the real mix (bench/mix.py)", flush=True)
        mixed = mix.run(profile=not args.no_profile, urlwatch=urlwatch,
                        log=lambda line: print(line, flush=True))
        mix.print_results(mixed, lambda line: print(line, flush=True))

    web = None
    if not (args.quick or args.no_web):
        print("bench: the web app at real size (bench/web_bench.py)", flush=True)
        web_notes: list[str] = []
        postgres = web_bench.postgres_url(None, web_notes)
        web = web_bench.run(web_bench.Size(), postgres=postgres, profile=not args.no_profile,
                            log=lambda line: print(line, flush=True))
        web.notes[:0] = web_notes
        web_bench.print_results(web)

    notes.append(f"1-minute load average before the run {load_before:.2f}, after it "
                 f"{os.getloadavg()[0]:.2f}, on {cpu_count()} CPUs. Other work on the machine "
                 "slows the watchers alike (they take turns), but makes single figures noisy.")
    found = (report.verdicts([(s, r) for s, r, _ in scenarios], day) + diff_verdicts
             + evidence_verdicts)
    if mixed is not None:
        found += mixed.verdicts
    if web is not None:
        found += [report.Verdict(*v) for v in web_bench.verdicts(web)]
    if corpus is not None:
        notes.append(corpus.line())
        notes.append(corpus.boilerplate_line())
    print("\ntargets (monitor against urlwatch/html2text, measured in this run):")
    for v in found:
        print(f"  {'PASS' if v.passed else 'MISS'}  {v.target}: {v.measured}")
    if profile is not None:
        print(f"\nwhere monitor's time goes (py-spy, one more unchanged pass at N={max(sizes)}):")
        print("\n".join("  " + line for line in report.profile_lines(profile)))
    elapsed = time.monotonic() - started
    results_path.write_text(
        report.results_markdown(command, scenarios, found, profile, notes, elapsed, day,
                                body_costs),
        encoding="utf-8")
    if mixed is not None:
        mix_report.write_section(results_path, mixed, command)
    if web is not None:
        web_bench.write_section(results_path, web_bench.section(web, command))
    print(f"\nbench: {elapsed / 60:.1f} min; results written to {results_path}")
    return 1 if args.strict and not all(v.passed for v in found) else 0


def _evidence(notes: list[str], *, quick: bool) -> list[report.Verdict]:
    """The proof's costs: the check ledger's bytes per unchanged check, the bytes of a
    checkpoint and of its witness line, signing and verifying a large log."""
    lines: list[str] = []

    def log(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    ledger = ledger_bench.measure(200, 3 if quick else 10, log=log)
    evidence_bench.run(10_000 if quick else 100_000, log=log)
    notes += lines
    per_check = ledger["bytes_per_unchanged_check"]
    return [report.Verdict("check ledger bytes per unchanged check < 50 (noisy pages), N=200",
                           f"{per_check:.1f}", per_check < ledger_bench.TARGET)]


def _profile(watcher: Watcher, n: int, notes: list[str]) -> Profile | None:
    assert isinstance(watcher, MonitorWatcher)
    print(f"  N={n} monitor: one more unchanged pass under py-spy (not in the figures)",
          flush=True)
    try:
        py_spy = ensure_py_spy(WORK / "py-spy-venv")
        return profile_command(py_spy, watcher.profile_command(), watcher.workdir,
                               WORK / f"profile-n{n}.txt")
    except (OSError, RuntimeError) as exc:
        notes.append(f"no profile: {exc}")
        print(f"  no profile: {exc}", flush=True)
        return None


def _classification(scenario: Scenario, watcher: Watcher, notes: list[str]) -> list[str]:
    """How monitor classified each kind of edit, from the ChangeDetected events in its log
    (which also cross-checks the outcomes its `check` printed)."""
    assert isinstance(watcher, MonitorWatcher)
    recorded = watcher.recorded_changes()
    reported = set().union(*(o.result.reported for o in scenario.runs[0].passes))
    if set(recorded) != reported or any(len(v) > 1 for v in recorded.values()):
        notes.append(f"N={scenario.pages}: monitor's log has ChangeDetected for pages "
                     f"{sorted(recorded)}, its check output said {sorted(reported)}.")
    by_kind: dict[str, set[str]] = {}
    for page, kind in scenario.edits:
        for significance, classes in recorded.get(page, [("missed", ())]):
            by_kind.setdefault(kind, set()).add(f"{'+'.join(classes) or '-'} [{significance}]")
    return [f"{kind}: {', '.join(sorted(seen))}" for kind, seen in sorted(by_kind.items())]


def _print_scenario(scenario: Scenario, results: list[Figures], classified: list[str]) -> None:
    print(f"\n{report.scenario_heading(scenario)}")
    print(report.text_table(report.table(scenario, results)))
    for line in report.store_breakdown(results):
        print(f"  {line}")
    print(f"  {report.PROJECTION_NOTE}")
    for r in scenario.runs:
        print(f"  {r.watcher.name} per pass: {report.pass_line(r)}")
    print("  monitor's classes per kind of edit: " + "; ".join(classified))


def _notes(scenario: Scenario, results: list[Figures]) -> list[str]:
    n = scenario.pages
    notes: list[str] = []
    for f in results:
        if f.failed:
            notes.append(f"N={n}: {f.name} had {f.failed} failed checks.")
        if f.missed:
            kinds = dict(scenario.edits)
            notes.append(f"N={n}: {f.name} missed "
                         + ", ".join(f"page {p} ({kinds[p]})" for p in f.missed) + ".")
        if f.max_in_flight > scenario.concurrency:
            notes.append(f"N={n}: {f.name} had {f.max_in_flight} requests in flight, more "
                         f"than the {scenario.concurrency} allowed.")
    return notes


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                   help="page counts, comma-separated (default: 200,2000)")
    p.add_argument("--quick", action="store_true",
                   help="N=200, one timed pass, no tuned urlwatch, no profile")
    p.add_argument("--passes", type=int, help="unchanged passes timed (default: 5, 3 for N>500)")
    p.add_argument("--concurrency", type=int, default=16,
                   help="requests in flight to the one host, for both watchers (default: 16)")
    p.add_argument("--no-tuned", action="store_true", help="skip the hand-tuned urlwatch run")
    p.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    p.add_argument("--no-day", action="store_true",
                   help=f"skip the measured day of hourly checks (N={DAY_PAGES})")
    p.add_argument("--no-mix", action="store_true",
                   help="skip the real mix (busy day, gov.kz API, real pages; bench/mix.py)")
    p.add_argument("--no-web", action="store_true",
                   help="skip the web app at real size (--quick skips it too)")
    p.add_argument("--results", type=Path, help="where to write the results (markdown)")
    p.add_argument("--corpus-sample", type=int, default=CORPUS_SAMPLE,
                   help=f"real-page corpus: score this many pages, drawn with seed "
                   f"{CORPUS_SEED} (default {CORPUS_SAMPLE}; 0: every page)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p


if __name__ == "__main__":
    sys.exit(main())
