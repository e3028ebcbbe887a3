"""The bench's tables, targets and RESULTS.md."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.api_body_bench import HEADER as BODY_HEADER
from bench.api_body_bench import NOTE as BODY_NOTE
from bench.api_body_bench import BodyCost
from bench.day import Day, day_rows, exact, stored
from bench.figures import Figures
from bench.measure import cpu_count
from bench.profile import Profile
from bench.scenario import Observed, Scenario, WatcherRun

OURS = "monitor"
PEER = "urlwatch/html2text"  # the equal-effort configuration the targets are against
TARGET_SIZE = 2000


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Figures], float | None]
    fmt: str
    ratio: bool = True  # show monitor / peer


ROWS = (
    Row("pages/s (unchanged passes)", lambda f: f.pages_per_second, "{:.1f}"),
    Row("  same, pass alone (no start-up)", lambda f: f.in_process_pages_per_second, "{:.1f}",
        ratio=False),
    Row("CPU ms/page", lambda f: f.cpu_ms_per_page, "{:.2f}"),
    Row("peak RSS MB", lambda f: f.max_rss_mb, "{:.0f}"),
    Row("server CPU ms/page", lambda f: f.server_cpu_ms_per_page, "{:.2f}", ratio=False),
    Row("first pass s", lambda f: f.first_pass_seconds, "{:.1f}"),
    Row("first pass CPU ms/page", lambda f: f.first_pass_cpu_ms_per_page, "{:.2f}"),
    Row("first pass bytes/page", lambda f: f.first_pass_bytes_per_page, "{:.0f}"),
    Row("bytes per unchanged check", lambda f: f.bytes_per_unchanged_check, "{:.1f}"),
    Row("bytes per change", lambda f: f.bytes_per_change, "{:.0f}"),
    Row("store at the end, bytes", lambda f: f.store_bytes, "{:.0f}"),
    Row("PROJECTED store after a day of hourly checks, bytes",
        lambda f: f.projected_day_bytes, "{:.0f}"),
    Row("precision", lambda f: f.precision, "{:.3f}", ratio=False),
    Row("recall", lambda f: f.recall, "{:.3f}", ratio=False),
    Row("false alarms (unchanged passes)", lambda f: f.false_alarms_unchanged, "{:.0f}",
        ratio=False),
    Row("false alarms (change pass)", lambda f: f.false_alarms - f.false_alarms_unchanged,
        "{:.0f}", ratio=False),
    Row("edits missed", lambda f: len(f.missed), "{:.0f}", ratio=False),
    Row("failed checks", lambda f: f.failed, "{:.0f}", ratio=False),
)


DAY_NOTE = (
    "The storage target is judged here, on each watcher's whole store on disk after the "
    "day, counted from nothing (monitor's schema and registered pages included), against "
    "urlwatch/html2text, the equal-effort configuration. urlwatch/tuned, whose user wrote "
    "a selector and a regex for this site, stores less than monitor: no copy on unchanged "
    "checks either, and a first version without evidence. The per-change reading of the "
    "target is judged too and missed: monitor records a change as a hash-chained "
    "VersionCaptured + ChangeDetected pair (hunks, classes, the evidence's hashes) plus "
    "zstd deltas of the text and the raw page, about 1.1x the one text urlwatch stores; "
    "a tenth of that would not hold the two event hashes and the diff.")

PROJECTION_NOTE = (
    "PROJECTED (derived, not measured): the store after one day of hourly checks, 24 "
    "passes = the first pass + 23 x N x (edit share x bytes per change + (1 - edit "
    "share) x bytes per unchanged check), with this run's figures and the change "
    "pass's edit share each hour.")


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def ratio(ours: float | None, peer: float | None) -> str:
    if ours is None or peer is None:
        return ""
    if peer == 0:
        return "=" if ours == 0 else "inf"
    return f"{ours / peer:.3g}x"


def table(scenario: Scenario, results: list[Figures]) -> list[list[str]]:
    """Rows of cells: label, one column per watcher, then monitor / urlwatch."""
    by_name = {f.name: f for f in results}
    names = [f.name for f in results]
    header = ["", *names, f"{OURS} / {PEER}" if PEER in by_name else ""]
    rows = [header]
    for row in ROWS:
        cells = [row.label] + [_fmt(row.value(by_name[n]), row.fmt) for n in names]
        shown = ""
        if row.ratio and OURS in by_name and PEER in by_name:
            shown = ratio(row.value(by_name[OURS]), row.value(by_name[PEER]))
        rows.append([*cells, shown])
    return rows


def pass_line(run: WatcherRun) -> str:
    """Each pass: wall s / CPU s and what the watcher reported."""
    def one(label: str, o: Observed) -> str:
        said = ", ".join(f"{v} {k}" for k, v in sorted(o.result.outcomes.items()))
        return f"{label} {o.result.run.wall:.1f}/{o.result.run.cpu:.1f} ({said or 'silent'})"

    parts = [one("first", run.first)] if run.first else []
    parts += [one(f"#{i}", o) for i, o in enumerate(run.unchanged, 1)]
    parts += [one("change", run.change)] if run.change else []
    return " | ".join(parts)


def store_breakdown(results: list[Figures]) -> list[str]:
    """Where each recorded change's bytes went, per table, for watchers that can tell."""
    lines = []
    for f in results:
        if f.bytes_per_change_by_table:
            parts = ", ".join(f"{t} {b:.0f}" for t, b in f.bytes_per_change_by_table)
            lines.append(f"{f.name} bytes per change by table: {parts}")
    return lines


def verdicts(scenarios: list[tuple[Scenario, list[Figures]]],
             day: Day | None = None) -> list[Verdict]:
    """The issue's targets. Speed and CPU are judged at N=2000 (or the largest N run),
    storage on the measured day (bench/day.py), precision and recall at every N."""
    out: list[Verdict] = []
    sized = max(scenarios, key=lambda s: s[0].pages)
    scenario, results = sized
    by_name = {f.name: f for f in results}
    at = f"N={scenario.pages}" + ("" if scenario.pages == TARGET_SIZE else
                                  f" (target is at N={TARGET_SIZE})")
    if OURS in by_name and PEER in by_name:
        ours, peer = by_name[OURS], by_name[PEER]
        out += [
            Verdict(f"pages/s >= 3x urlwatch, {at}",
                    ratio(ours.pages_per_second, peer.pages_per_second),
                    ours.pages_per_second >= 3 * peer.pages_per_second),
            Verdict(f"CPU per page <= 1/3 of urlwatch, {at}",
                    ratio(ours.cpu_ms_per_page, peer.cpu_ms_per_page),
                    3 * ours.cpu_ms_per_page <= peer.cpu_ms_per_page),
            Verdict(f"bytes per unchanged check <= 1/10 of urlwatch, {at}",
                    ratio(ours.bytes_per_unchanged_check, peer.bytes_per_unchanged_check),
                    10 * ours.bytes_per_unchanged_check <= peer.bytes_per_unchanged_check),
            Verdict(f"bytes per change <= 1/10 of urlwatch (the target read per change), "
                    f"{at}", ratio(ours.bytes_per_change, peer.bytes_per_change),
                    ours.bytes_per_change is not None and peer.bytes_per_change is not None
                    and 10 * ours.bytes_per_change <= peer.bytes_per_change),
        ]
    if day is not None:
        ours_day, peer_day = stored(day, OURS), stored(day, PEER)
        if ours_day is not None and peer_day:
            out.append(Verdict(
                f"store after a day of hourly checks <= 1/10 of urlwatch, measured, "
                f"N={day.pages}", ratio(ours_day, peer_day), 10 * ours_day <= peer_day))
            out.append(Verdict(f"every edit of the day reported once, nothing else, "
                               f"N={day.pages}", "yes" if exact(day, OURS) else "no",
                               exact(day, OURS)))
    for scenario, results in scenarios:
        for mine in (f for f in results if f.name == OURS):
            out.append(Verdict(f"precision = 1, N={scenario.pages}",
                               _fmt(mine.precision, "{:.3f}"), mine.precision == 1.0))
            out.append(Verdict(f"recall = 1, N={scenario.pages}", f"{mine.recall:.3f}"
                               + (f" (missed pages {list(mine.missed)})" if mine.missed else ""),
                               mine.recall == 1.0))
    return out


def day_table(day: Day) -> list[list[str]]:
    names = [r.watcher.name for r in day.runs]
    header = ["", *names, f"{OURS} / {PEER}" if {OURS, PEER} <= set(names) else ""]
    rows = [header]
    for label, values in day_rows(day):
        shown = ""
        if label.startswith("store") and OURS in values and PEER in values:
            shown = ratio(float(values[OURS]), float(values[PEER]))
        rows.append([label, *[values[n] for n in names], shown])
    return rows


def day_heading(day: Day) -> str:
    hours = ", ".join(str(h) for h, _ in day.rounds)
    edits = sum(len(e) for _, e in day.rounds)
    return (f"A day of hourly checks, measured: N={day.pages} pages, 24 passes, {edits} "
            f"pages edited in four rounds (before hours {hours})")


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                  enumerate(zip(r, widths, strict=True))).rstrip()
        for r in rows
    )


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(c.strip() for c in rows[0]) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    lines += ["| " + " | ".join(c.strip() for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def scenario_heading(scenario: Scenario) -> str:
    kinds = sorted({kind for _, kind in scenario.edits})
    return (f"N={scenario.pages} pages, {scenario.concurrency} requests in flight, "
            f"{scenario.passes} unchanged passes timed, {len(scenario.edits)} pages edited "
            f"({', '.join(kinds)})")


def profile_lines(profile: Profile) -> list[str]:
    def share(n: int) -> str:
        return f"{100 * n / profile.samples:5.1f}%"

    lines = [f"{profile.samples} samples = {profile.seconds:.1f} s holding the GIL",
             "", "by library (frame running):"]
    lines += [f"  {share(n)}  {name}" for name, n in profile.by_library]
    lines += ["", "by project function (inclusive):"]
    lines += [f"  {share(n)}  {name}" for name, n in profile.by_project_function]
    lines += ["", "by frame running (self):"]
    lines += [f"  {share(n)}  {name}" for name, n in profile.by_self]
    return lines


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu_count()} CPUs (nproc){f', {model}' if model else ''}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}")


def results_markdown(command: str, scenarios: list[tuple[Scenario, list[Figures], list[str]]],
                     found: list[Verdict], profile: Profile | None, notes: list[str],
                     elapsed: float, day: Day | None = None,
                     bodies: list[BodyCost] | None = None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmark results", "",
        f"- command: `{command}`",
        f"- date: {now}; whole run {elapsed / 60:.1f} min",
        f"- machine: {machine()}",
        "- all figures of one table come from one run; how to read them: bench/README.md",
        "",
    ]
    for scenario, results, classified in scenarios:
        out += [f"## {scenario_heading(scenario)}", "", markdown_table(table(scenario, results)),
                ""]
        out += [f"- {line}" for line in store_breakdown(results)]
        out += [f"- {PROJECTION_NOTE}"]
        out += ["- per pass, wall s / CPU s (what was reported):"]
        out += [f"  - {r.watcher.name}: {pass_line(r)}" for r in scenario.runs]
        out += ["- how monitor classified each kind of edit (from its ChangeDetected events):"]
        out += [f"  - {line}" for line in classified]
        out.append("")
    if day is not None:
        out += [f"## {day_heading(day)}", "", markdown_table(day_table(day)), "",
                f"- {DAY_NOTE}", ""]
    if bodies:
        out += ["## gov.kz API bodies: BeautifulSoup against lxml (bench/api_body_bench.py)",
                "", markdown_table([BODY_HEADER, *(b.row() for b in bodies)]), "",
                f"- {BODY_NOTE}", ""]
    out += ["## Targets", "", "| target | measured | |", "|---|---:|---|"]
    out += [f"| {v.target} | {v.measured} | {'PASS' if v.passed else 'MISS'} |" for v in found]
    out.append("")
    if profile is not None:
        out += ["## Where monitor's time goes (py-spy --gil, one more unchanged pass at the "
                "largest N)",
                "", "```", *profile_lines(profile), "```", ""]
    if notes:
        out += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(out)
