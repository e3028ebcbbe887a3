"""The real-mix bench (bench/mix.py) at a tiny size, so that it does not rot: its
sites serve what they plan (the gov.kz API's JSON written anew on every answer, and
monitor's govkz kind reading the same text from it), its harness runs every pass
over real HTTP and its report judges and writes what it measured. The watchers here
are a small one of the test's own (no monitor or urlwatch processes: those are the
bench's); no timing is asserted."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import requests
from article_shapes import SHAPES, render, truth
from conftest import REPO

from monitor.sources.base import SourceSpec
from monitor.sources.govkz import GovkzArticle

sys.path.insert(0, str(REPO))  # the bench is a package of the repository, not installed
from bench import mix, mix_report
from bench.measure import Run
from bench.mix_profile import stage_of
from bench.mix_run import run_part
from bench.mix_sites import CorpusSite, GovkzSite, PageSite
from bench.tools import PassResult, page_number


class Fetching:
    """A watcher of the test's own: fetches every URL (`address` of the one given),
    keeps a hash of what `key` makes of the answer, reports a page whose hash moved."""

    def __init__(self, name: str, key=lambda body: body,  # type: ignore[no-untyped-def]
                 address=lambda url: url) -> None:
        self.name, self.key, self.address = name, key, address
        self.seen: dict[int, str] = {}
        self.stored = 0

    def prepare(self, urls: list[str]) -> None:
        self.urls = [self.address(url) for url in urls]

    def first_pass(self) -> PassResult:
        return self.check_pass()

    def check_pass(self) -> PassResult:
        changed = set()
        for url in self.urls:
            body = requests.get(url, timeout=5).content
            digest = hashlib.sha256(self.key(body)).hexdigest()
            n = page_number(url)
            if self.seen.get(n, digest) != digest:
                changed.add(n)
            if self.seen.get(n) != digest:
                self.stored += len(body)
            self.seen[n] = digest
        run = Run(("fetching",), 0, 0.5, 0.1, 1000, "", "")
        return PassResult(run, frozenset(changed), 0, Counter(changed=len(changed)))

    def store_bytes(self) -> int:
        return self.stored


def _release(body: bytes) -> bytes:
    item = json.loads(body)
    return json.dumps([item["title"], item["created_date"], item["body"]]).encode()


def test_govkz_api_json_differs_on_every_answer_but_not_to_monitor(fetcher) -> None:  # type: ignore[no-untyped-def]
    with GovkzSite(3) as site:
        api = site.urls("urlwatch/plain")[0]
        answers = [requests.get(api, timeout=5).content for _ in range(4)]
        assert len(set(answers)) == 4  # key order, whitespace, escaping (and the views)
        release = [{k: v for k, v in json.loads(a).items() if "views" not in k}
                   for a in answers]
        assert all(r == release[0] for r in release) and release[0]["body"]
        spec = SourceSpec(name="a", url=site.urls("monitor")[0], kind="govkz")
        hashes = {GovkzArticle().capture(spec, fetcher).document.content_hash  # type: ignore[union-attr]
                  for _ in range(3)}
        assert len(hashes) == 1


def test_the_mix_harness_runs_judges_and_writes_its_section(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for shape in SHAPES[:2]:
        (corpus / shape.name).mkdir(parents=True)
        (corpus / shape.name / "page.html").write_text(render(shape, wrap=80), encoding="utf-8")
        (corpus / shape.name / "truth.txt").write_text("\n\n".join(truth(shape)) + "\n",
                                                       encoding="utf-8")
    results = mix.MixResults()
    with PageSite(8) as pages:
        results.parts.append(run_part("html", "html", pages, [Fetching("monitor")],
                                      unchanged=1, log=lambda _: None))
    with GovkzSite(8) as govkz:
        def api(url: str) -> str:
            return govkz.replica.api_item_url(page_number(url))

        watchers = [Fetching("monitor", _release, api), Fetching("urlwatch/plain")]
        results.parts.append(run_part("govkz", "govkz", govkz, watchers, unchanged=1,
                                      log=lambda _: None))
    with CorpusSite(corpus, 2) as real:
        results.parts.append(run_part("corpus", "corpus", real, [Fetching("monitor")],
                                      unchanged=2, word_pass=False, log=lambda _: None))
    html, api, real_pages = results.parts
    assert list(html.passes) == ["first", "unchanged", "change", "one word"]
    assert len(html.edited["change"]) == 2 and len(html.edited["one word"]) == 1
    # The watcher of the release's fields sees only the edits; the plain one every load.
    assert api.passes["unchanged"]["monitor"].reported == frozenset()
    assert api.passes["change"]["monitor"].reported == api.edited["change"]
    assert len(api.passes["unchanged"]["urlwatch/plain"].reported) == 8
    assert real_pages.passes["change"]["monitor"].reported == frozenset({1, 2})
    results.verdicts = mix_report.verdicts(results.parts)
    targets = [v.target for v in results.verdicts]
    assert sum("change-heavy pass pages/s" in t for t in targets) == 2
    assert any("unchanged govkz check" in t for t in targets)
    assert any("unchanged real page" in t for t in targets)
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark results\n\n## Other\n\nkept\n", encoding="utf-8")
    mix_report.write_section(out, results, "test")
    mix_report.write_section(out, results, "test")  # replaced, not added twice
    text = out.read_text(encoding="utf-8")
    assert text.count(mix_report.HEADING) == 1 and "kept" in text
    assert "| change-heavy pass pages/s >= 3x urlwatch's best, govkz, N=8 |" in text


def test_profile_samples_are_put_in_the_stage_innermost() -> None:
    append = "EventStore.append (monitor/store/eventstore.py)"
    assert stage_of(["process 1", "run (monitor/check.py)", append,
                     "apply (monitor/store/projections.py)"]) == "projections"
    assert stage_of(["process 1", append, "Connection.commit (sqlalchemy/engine/base.py)"]) \
        == "fsync/commit"
    assert stage_of(["<module> (monitor)", "<module> (trafilatura/core.py)"]) \
        == "start-up (imports)"
    assert stage_of(["process 1"]) == "native code (no Python frame)"
    assert stage_of([append, "_sqlite_engine.<locals>._on_begin (monitor/store/database.py)",
                     "DefaultDialect.do_execute (sqlalchemy/engine/default.py)"]) \
        == "write lock (BEGIN IMMEDIATE)"
