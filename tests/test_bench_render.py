"""The render-cost bench (bench/render_cost.py) at a tiny size, plain sources only, so
that it does not rot: its site serves real-size pages and JavaScript applications whose
text only a script brings, its /proc sampler sees a whole process tree and its memory,
and its watcher drives the real `monitor init` and `monitor check` over a monitor.toml
of [[sources]]. No timing is asserted; rendering itself is the bench's to measure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests
from conftest import REPO

from monitor.sources.shell import page_shell

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench import render_cost
from bench.render_site import RenderCostSite
from bench.tree_memory import run_tree

MB = 1024 * 1024


def test_the_site_serves_real_size_pages_and_shells_whose_script_brings_the_text() -> None:
    with RenderCostSite(pages=8, js_every=4) as site:
        plain = requests.get(site.page_url(3), timeout=5)
        shell = requests.get(site.page_url(4), timeout=5)
        data = requests.get(f"{site.base_url}/data/4.json", timeout=5).json()
        script = requests.get(f"{site.base_url}/static/spa.js", timeout=5)
        assert requests.get(site.page_url(9), timeout=5).status_code == 404
    assert plain.status_code == 200 and len(plain.content) > 50_000
    assert page_shell(plain.content) is None
    found = page_shell(shell.content)
    assert found is not None and found.said() == 'an empty <div id="root"> and 1 script, no text'
    assert data["title"].endswith("(No. 4)") and len(data["paragraphs"]) >= 3
    assert data["title"] not in shell.text and "/data/${n}.json" in script.text


def test_the_sampler_sees_the_whole_tree_and_its_memory(tmp_path: Path) -> None:
    # a child holding 64 MB under a shell that waits for it
    hold = f"{sys.executable} -c 'import time; b = bytearray(64 << 20); time.sleep(1.2)'"
    done = run_tree(["sh", "-c", f"{hold} & wait"], cwd=tmp_path)
    assert done.returncode == 0
    assert max(s.processes for s in done.samples) >= 2
    assert done.peak_rss >= 64 * MB and done.peak_pss >= 64 * MB
    assert done.cpu > 0 and done.browser_pids == set()


def test_plain_sources_are_checked_through_the_command_line(tmp_path: Path) -> None:
    with RenderCostSite(pages=2, js_every=2) as site:
        watcher = render_cost.Watcher(tmp_path / "plain", [site.page_url(1), site.page_url(2)],
                                      render=False, recycle_after=50, executable="/none")
        assert watcher.init() is None
        first = watcher.check_pass("plain", 4, learn=False)  # the bench learns; a test waits not
    # the JavaScript page reads as nothing to a plain fetch: the reason to render it
    assert first.outcomes == {"captured": 1, "failed": 1}
    assert first.seconds > 0 and first.run.peak_pss > 0
    line = first.line()
    assert line.startswith("  plain     2 pages in ") and "pages/s" in line
    assert "1 captured, 1 failed" in line
    config = (tmp_path / "plain" / "monitor.toml").read_text(encoding="utf-8")
    assert config.count("[[sources]]") == 2 and "render =" not in config
    assert json.loads(first.run.stdout)["processes"] == 1


def test_without_chromium_the_rendered_runs_say_so(tmp_path: Path) -> None:
    said = render_cost.rendering_problem(tmp_path, "http://127.0.0.1:9/page/1",
                                         str(tmp_path / "no-chromium"))
    assert said == f"rendering not available: no chromium at {tmp_path / 'no-chromium'}"
