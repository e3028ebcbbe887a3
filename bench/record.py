"""`python -m bench.record HEADING -- COMMAND...`: run one benchmark and keep what it
printed as a section of bench/RESULTS.md.

`make bench` runs the benchmarks that print their own verdicts (adding 100,000 URLs,
learning a first pass, the daemon at 100,000 sources, the million simulation, the
cluster) through this, so the results file holds the whole run: each section names
the command, when it ran, the load average and its exit status, then the output as
printed. The section of the same heading from an earlier run is replaced; the others
stay. `--results FILE` writes elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.sections import replace_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("heading", help="the section's title (without '## ')")
    parser.add_argument("--results", type=Path, default=RESULTS)
    given = sys.argv[1:] if argv is None else argv
    if "--" not in given:
        parser.error("give the benchmark's command after --")
    split = given.index("--")
    args, command = parser.parse_args(given[:split]), given[split + 1:]
    if not command:
        parser.error("give the benchmark's command after --")
    started, load = time.monotonic(), _load()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines: list[str] = []
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, bufsize=1) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                lines.append(line.rstrip("\n"))
            status = proc.wait()
    except OSError as exc:
        print(f"bench.record: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 2
    minutes = (time.monotonic() - started) / 60
    shown = shlex.join(["python" if c == sys.executable else c for c in command])
    text = "\n".join([
        f"## {args.heading}", "",
        f"- command: `{shown}`; {when}; {minutes:.1f} min; exit status {status}",
        f"- 1-minute load average before {load}, after {_load()}", "",
        "```", *lines, "```", ""])
    replace_section(args.results, f"## {args.heading}", text)
    return status


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
