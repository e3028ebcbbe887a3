"""The real-mix bench's tables, its verdicts on issue 13's targets, and its section
of bench/RESULTS.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.mix_run import Part, PassFigures
from bench.report import Verdict, markdown_table, ratio, text_table
from bench.sections import replace_section

if TYPE_CHECKING:
    from bench.mix import MixResults

OURS = "monitor"
HEADING = "## The real mix: busy days, the gov.kz API, real pages (bench/mix.py)"
UNCHANGED_GOVKZ_MS = 0.5


_ROWS: tuple[tuple[str, Callable[[PassFigures], float | None], str], ...] = (
    ("pages/s", lambda f: f.pages_per_second, "{:.1f}"),
    ("CPU ms/page", lambda f: f.cpu_ms_per_page, "{:.2f}"),
    ("bytes stored", lambda f: float(f.stored), "{:.0f}"),
    ("bytes per change", lambda f: f.bytes_per_change, "{:.0f}"),
)


def table(part: Part) -> list[list[str]]:
    peers = [w for w in part.watchers if w != OURS]
    rows = [["pass", "", *part.watchers, *[f"{OURS} / {p}" for p in peers]]]
    for label, by_name in part.passes.items():
        edited = part.edited.get(label, frozenset())
        for i, (row, value, fmt) in enumerate(_ROWS):
            cells = [label if i == 0 else "", row]
            cells += [_fmt(value(by_name[w]), fmt) for w in part.watchers]
            cells += [ratio(value(by_name[OURS]), value(by_name[p])) for p in peers]
            rows.append(cells)
        said = [_said(by_name[w], edited, label) for w in part.watchers]
        rows.append(["", f"changed ({len(edited)} edited)", *said, *[""] * len(peers)])
    return rows


def _said(f: PassFigures, edited: frozenset[int], label: str) -> str:
    if label == "first":
        return f"{f.failed} failed" if f.failed else "-"
    true = len(f.reported & edited)
    false = len(f.reported - edited)
    text = f"{true}+{false} false" if false else str(true)
    return text + (f", {f.failed} failed" if f.failed else "")


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def key_hits(part: Part) -> str | None:
    """monitor's page-key hits over its unchanged passes."""
    found = [f for label, by in part.passes.items() if label.startswith("unchanged")
             for f in [by[OURS]] if f.key_hits is not None]
    if part.kind != "html" or not found:
        return None
    hits = sum(f.key_hits or 0 for f in found)
    checks = sum(f.pages - len(f.reported) - f.failed for f in found)
    return f"{hits}/{checks} ({100 * hits / checks:.0f}%)" if checks else None


def text(parts: list[Part]) -> list[str]:
    out = []
    for part in parts:
        out += ["", f"{part.title}, N={part.pages}", text_table(table(part))]
        hits = key_hits(part)
        if hits:
            out.append(f"  monitor's page key decided {hits} of its unchanged checks")
    return out


def _best(part: Part, label: str, value: Callable[[PassFigures], float | None],
          higher: bool) -> tuple[str, float] | None:
    """The stronger urlwatch configuration on one figure: (name, value)."""
    found = [(w, v) for w in part.watchers if w != OURS
             for f in [part.figures(label, w)] if f is not None
             for v in [value(f)] if v is not None]
    if not found:
        return None
    return (max if higher else min)(found, key=lambda wv: wv[1])


def _against(part: Part, label: str, value: Callable[[PassFigures], float | None],
             higher: bool) -> tuple[float | None, float | None, str]:
    """monitor's figure, the stronger peer's, and "x of peer (y of other)" text."""
    mine = part.figures(label, OURS)
    ours = value(mine) if mine is not None else None
    best = _best(part, label, value, higher)
    if ours is None or best is None:
        return ours, None, "n/a"
    others = [f"{ratio(ours, v)} of {w}" for w in part.watchers if w not in (OURS, best[0])
              for f in [part.figures(label, w)] if f is not None
              for v in [value(f)] if v is not None]
    said = f"{ratio(ours, best[1])} of {best[0]}" + (f" ({'; '.join(others)})" if others
                                                      else "")
    return ours, best[1], said


def _speed(part: Part, at: str) -> list[Verdict]:
    ours, peer, said = _against(part, "change", lambda f: f.pages_per_second, True)
    out = [Verdict(f"change-heavy pass pages/s >= 3x urlwatch's best, {at}", said,
                   ours is not None and peer is not None and ours >= 3 * peer)]
    ours, peer, said = _against(part, "change", lambda f: f.cpu_ms_per_page, False)
    out.append(Verdict(f"change-heavy pass CPU per page <= 1/3 of urlwatch's best, {at}",
                       said, ours is not None and peer is not None and 3 * ours <= peer))
    return out


def _word(part: Part, label: str, at: str) -> Verdict:
    ours, peer, said = _against(part, label, lambda f: f.bytes_per_change, False)
    return Verdict(f"a one-word change stores <= 1/5 of urlwatch's best, {at}", said,
                   ours is not None and peer is not None and 5 * ours <= peer)


def verdicts(parts: list[Part]) -> list[Verdict]:
    out: list[Verdict] = []
    for part in parts:
        at = f"{part.key}, N={part.pages}"
        if part.key in ("html", "govkz"):
            out += _speed(part, at)
            out.append(_word(part, "one word", at))
        if part.key == "govkz":
            mine = part.figures("unchanged", OURS)
            ms = mine.cpu_ms_per_page if mine else None
            out.append(Verdict(f"an unchanged govkz check <= {UNCHANGED_GOVKZ_MS} ms CPU "
                               f"(whole command / N), {at}", _fmt(ms, "{:.2f} ms"),
                               ms is not None and ms <= UNCHANGED_GOVKZ_MS))
        if part.key == "corpus":
            ours = _unchanged_cpu(part, OURS)
            peers = [(w, v) for w in part.watchers if w != OURS
                     for v in [_unchanged_cpu(part, w)] if v]
            best = min(peers, key=lambda wv: wv[1]) if peers else None
            hits = key_hits(part)
            said = ("n/a" if ours is None or best is None else
                    f"{ratio(ours, best[1])} of {best[0]} ({ours:.1f} vs {best[1]:.1f} ms)")
            out.append(Verdict(f"an unchanged real page costs <= 1/3 of urlwatch's CPU, {at}",
                               said + (f"; page key hits {hits}" if hits else ""),
                               ours is not None and best is not None and 3 * ours <= best[1]))
            out.append(_word(part, "change", at))
    return out


def _unchanged_cpu(part: Part, name: str) -> float | None:
    """The median CPU ms per page of a watcher's unchanged passes."""
    got = [f.cpu_ms_per_page for label, by in part.passes.items()
           if label.startswith("unchanged") for f in [by.get(name)] if f is not None]
    return statistics.median(got) if got else None


def change_missed(part: Part) -> bool:
    """Whether a change-heavy target of this part is missed (then it is profiled)."""
    return not all(v.passed for v in _speed(part, part.key))


def section(results: MixResults, command: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [HEADING, "", f"- command: `{command}`; {now}; {results.seconds / 60:.1f} min",
           "- each table is one run; ratios are monitor / that urlwatch configuration; "
           "verdicts use the stronger configuration on each figure (bench/README.md)", ""]
    for part in results.parts:
        out += [f"### {part.title}, N={part.pages}", "", markdown_table(table(part)), ""]
        hits = key_hits(part)
        if hits:
            out += [f"- monitor's page key decided {hits} of its unchanged checks", ""]
    out += ["### Targets of the real mix", "", "| target | measured | |", "|---|---:|---|"]
    out += [f"| {v.target} | {v.measured} | {'PASS' if v.passed else 'MISS'} |"
            for v in results.verdicts]
    out.append("")
    for kind, lines in results.profiles.items():
        if lines:
            out += [f"### Where monitor's change-heavy {kind} pass spends its time", "",
                    "```", *lines, "```", ""]
    out += [f"- {n}" for n in results.notes]
    return "\n".join(out) + "\n"


def write_section(path: Path, results: MixResults, command: str) -> None:
    """Replaces this section in the results file, or adds it at the end."""
    replace_section(path, HEADING, section(results, command))
