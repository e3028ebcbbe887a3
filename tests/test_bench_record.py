"""`python -m bench.record`: a benchmark's printed verdicts become a section of the
results file, replacing the same section of an earlier run and keeping the others."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench import record


def test_a_benchmark_s_output_replaces_its_own_section_only(tmp_path: Path, capsys) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Other\n\nkept\n", encoding="utf-8")
    say = [sys.executable, "-c"]
    assert record.main(["Speed", "--results", str(results), "--", *say, "print('PASS one')"]) == 0
    assert record.main(["Speed", "--results", str(results), "--", *say,
                        "print('MISS <two>'); raise SystemExit(3)"]) == 3
    text = results.read_text(encoding="utf-8")
    assert text.count("## Speed") == 1 and "PASS one" not in text
    assert "MISS <two>" in text and "exit status 3" in text
    assert text.index("## Other") < text.index("## Speed") and "kept" in text
    assert "MISS <two>" in capsys.readouterr().out  # shown as it ran, too


def test_without_a_command_it_says_so(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    try:
        record.main(["Speed", "--results", str(results)])
    except SystemExit as exit_:
        assert exit_.code == 2
    else:
        raise AssertionError("no command was accepted")
    assert not results.exists()
    assert record.main(["Speed", "--results", str(results), "--", str(tmp_path / "none")]) == 2
    assert not results.exists()
