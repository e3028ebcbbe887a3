"""CPU per check, measured in-process: where a change's cost goes.

    python -m bench.cpu_profile html|govkz|corpus [--pages N] [--edit-share 0.25]
                                                   [--profile out.prof]

Sources are registered in a fresh SQLite store, the pages are served from 127.0.0.1
(NoisySite, the gov.kz replica with a view counter that moves in every answer, or
the real pages of `MONITOR_CORPUS_DIR` with ArticleSite's noise), and the checks run
one after another on this thread, so that the thread's CPU time (`time.thread_time`)
is the checker's alone: the server answers on threads of its own. Printed: CPU ms per
check for an unchanged pass and for a change pass (`--edit-share` of the pages edited),
and with `--profile` a cProfile of the change pass (or of the unchanged pass with
`--edit-share 0`).
"""

from __future__ import annotations

import argparse
import cProfile
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.pages import BenchSite

LEARN_DELAY = 0.05  # the replicas' clocks move by the millisecond


def _store(work: Path) -> tuple[Any, Any]:
    from monitor.config import load_config
    from monitor.store import migrate, open_store

    config_file = work / "monitor.toml"
    config_file.write_text(
        f'[database]\nurl = "sqlite:///{work}/monitor.db"\n\n'
        '[fetch]\nmin_delay_per_host = "0s"\nmax_concurrent_per_host = 64\n'
        "allow_private_networks = true\n", encoding="utf-8")
    config = load_config(str(config_file))
    store = open_store(config.database_url, check_schema=False)
    migrate.upgrade(store.engine)
    return config, store


def _register(store: Any, urls: list[str], kind: str) -> list[str]:
    from monitor.catalog import register
    from monitor.config import SourceConfig

    names = [f"s{i:05d}" for i in range(len(urls))]
    for name, url in zip(names, urls, strict=True):
        register(store, SourceConfig(name=name, url=url, kind=kind, interval_seconds=3600))
    return names


def _pass(checker: Any, names: list[str], profile: cProfile.Profile | None = None
          ) -> tuple[float, Counter[str]]:
    """CPU seconds of this thread for one sequential pass, and the outcomes."""
    from monitor.store.queries import list_sources

    rows = {r.name: r for r in list_sources(checker.store.engine)}
    checker.page_keys.load()
    outcomes: Counter[str] = Counter()
    started = time.thread_time()
    if profile is not None:
        profile.enable()
    for name in names:
        outcomes[checker.check(name, rows.get(name)).outcome] += 1
    if profile is not None:
        profile.disable()
    return time.thread_time() - started, outcomes


def _first(checker: Any, names: list[str]) -> Counter[str]:
    with ThreadPoolExecutor(16) as pool:
        return Counter(r.outcome for r in pool.map(checker.check, names))


@contextmanager
def _html_site(pages: int, edit_share: float) -> Iterator[tuple[list[str], Callable[[], None]]]:
    with BenchSite(pages, edit_share=edit_share) as site:
        yield site.urls, site.apply_edits


@contextmanager
def _govkz_site(pages: int, edit_share: float
                ) -> Iterator[tuple[list[str], Callable[[], None]]]:
    from bench.cluster_bench import _paragraphs
    from monitor.replica.govkz import GovkzReplica

    with GovkzReplica() as replica:
        urls = [replica.add_article("mfa", 900000 + i, title=f"Press release {i}",
                                    paragraphs=_paragraphs(i),
                                    created_date="2026-03-03T10:00:00.000+05:00")
                for i in range(pages)]
        edited = random.Random(1).sample(range(pages), round(pages * edit_share))

        def edit() -> None:
            for i in edited:
                words = _paragraphs(i)
                words[1] = words[1].replace("took part", "took a part")
                replica.edit_article(900000 + i, "en", paragraphs=words)
        yield urls, edit


@contextmanager
def _corpus_site(pages: int, edit_share: float
                 ) -> Iterator[tuple[list[str], Callable[[], None]]]:
    from bench.corpus import corpus_dir, load_corpus
    from bench.corpus_edit import edit_in
    from monitor.replica.article_site import ArticleSite

    corpus = load_corpus(corpus_dir(), sample=pages, seed=1)
    with ArticleSite(seed=3) as site:
        urls = [site.set_page(n, page.markup) for n, page in enumerate(corpus, 1)]
        edited = random.Random(1).sample(range(len(corpus)), round(len(corpus) * edit_share))

        def edit() -> None:
            for i in edited:
                made = edit_in(corpus[i].markup, corpus[i].truth)
                if made is not None:
                    site.set_page(i + 1, made.markup)
        yield urls, edit


def _count_extractions() -> Callable[[], int]:
    """How many pages were extracted (their page key missed) since the last call."""
    from monitor.sources.html import HtmlPage

    count = [0]
    extract = HtmlPage._document

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return extract(*args, **kwargs)

    HtmlPage._document = counted  # type: ignore[method-assign]

    def taken() -> int:
        seen, count[0] = count[0], 0
        return seen
    return taken


SITES = {"html": (_html_site, "html"), "govkz": (_govkz_site, "govkz"),
         "corpus": (_corpus_site, "html")}


def main(argv: list[str] | None = None) -> None:
    from monitor.runner import build_checker

    parser = argparse.ArgumentParser(prog="python -m bench.cpu_profile")
    parser.add_argument("site", choices=sorted(SITES))
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--edit-share", type=float, default=0.25)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--learn-delay", type=float, default=LEARN_DELAY)
    parser.add_argument("--passes", type=int, default=1, help="unchanged passes")
    args = parser.parse_args(argv)
    make_site, kind = SITES[args.site]
    with tempfile.TemporaryDirectory() as tmp, make_site(args.pages, args.edit_share) as (
            urls, edit):
        config, store = _store(Path(tmp))
        names = _register(store, urls, kind)
        checker = build_checker(config, store, learn_delay=args.learn_delay)
        print(f"first pass: {dict(_first(checker, names))}")
        extracted = _count_extractions()
        for k in range(args.passes):
            cpu, outcomes = _pass(checker, names)
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"unchanged pass {k + 1}: {cpu * 1000 / len(names):.2f} ms CPU/check "
                  f"{dict(outcomes)} (load {load}); {extracted()} extracted")
        profile = cProfile.Profile(time.thread_time) if args.profile else None
        if args.edit_share > 0:
            edit()
            cpu, outcomes = _pass(checker, names, profile)
            print(f"change pass: {cpu * 1000 / len(names):.2f} ms CPU/check {dict(outcomes)} "
                  f"(load {load}); {extracted()} extracted")
        elif profile is not None:
            _pass(checker, names, profile)
        if profile is not None:
            profile.dump_stats(args.profile)
        checker.fetcher.close()
        store.engine.dispose()


if __name__ == "__main__":
    main()
