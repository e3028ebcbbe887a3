"""The sites of the real-mix bench (bench/mix.py), each with the URLs every watcher
is given and the edits the bench makes:

- `PageSite`: the bench's noisy pages (bench/pages.py), a quarter of them edited in
  one pass;
- `GovkzSite`: N gov.kz releases on the gov.kz replica, read through its API, whose
  JSON is written differently on every answer (key order, whitespace, escaping);
  monitor is given the release's page URL (its `govkz` kind reads the API behind
  it), urlwatch the API URL of the item, which is what it can watch;
- `CorpusSite`: the largest pages of the real-page corpus (bench/corpus.py), at
  their real size, with noise put around them on every load.

Every site plans its edits from its seed: `change_edits()` (the busy pass) and
`word_edits()` (one word in each of a few pages not edited before); the generated
ones also `again_edits()`, a word more in the pages of the busy pass, for the profile.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench.corpus import CorpusPage, load_corpus
from bench.corpus_edit import edit_in
from bench.pages import EDIT_KINDS, BenchSite, Edit, edit_content
from monitor.replica.article_site import ArticleSite
from monitor.replica.govkz import GovkzReplica
from monitor.replica.server import ReplicaServer

CHANGE_SHARE = 0.25  # a busy day: a quarter of the pages edited in one pass
WORD_SHARE = 0.05  # the one-word pass
_WORDS = ("ministry", "region", "programme", "citizens", "support", "development",
          "agreement", "meeting", "budget", "education", "health", "infrastructure",
          "investment", "akimat", "project", "construction", "digital", "services",
          "reform", "agriculture", "employment", "transport", "energy", "water")


def _word_plan(pages: int, taken: set[int], rng: random.Random) -> tuple[Edit, ...]:
    free = [n for n in range(1, pages + 1) if n not in taken]
    chosen = sorted(rng.sample(free, max(1, min(len(free), round(pages * WORD_SHARE)))))
    return tuple(Edit(n, "word") for n in chosen)


class PageSite:
    """The bench's noisy pages; the change pass edits CHANGE_SHARE of them."""

    kind = "html"

    def __init__(self, pages: int, seed: int = 2025) -> None:
        self.pages = pages
        self.bench = BenchSite(pages, seed=seed, edit_share=CHANGE_SHARE)
        self._words = _word_plan(pages, set(self.bench.edited_pages), random.Random(seed + 1))

    def __enter__(self) -> PageSite:
        self.bench.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bench.__exit__(*exc)

    @property
    def server(self) -> ReplicaServer:
        return self.bench.site

    def urls(self, watcher_name: str) -> list[str]:
        return self.bench.urls

    def change_edits(self) -> frozenset[int]:
        self.bench.apply_edits()
        return self.bench.edited_pages

    def word_edits(self) -> frozenset[int]:
        self.bench.apply_edits(self._words)
        return frozenset(e.page for e in self._words)

    def again_edits(self) -> frozenset[int]:
        """One more word in each page the change pass edited (for the profile)."""
        self.bench.apply_edits(tuple(Edit(n, "word") for n in sorted(self.bench.edited_pages)))
        return self.bench.edited_pages


class GovkzSite:
    """N releases in Russian on the gov.kz replica, its API answering JSON written
    anew on every answer (`reserialise`), no bot challenge (urlwatch cannot pass one)."""

    kind = "govkz"
    ENTITY = "mfa"

    def __init__(self, pages: int, seed: int = 2025) -> None:
        self.pages = pages
        self.replica = GovkzReplica(challenge=None, noise=True, seed=seed, reserialise=True)
        rng = random.Random(seed)
        self._rng = rng
        self._articles: dict[int, tuple[str, list[str], str]] = {}
        for n in range(1, pages + 1):
            title = " ".join(rng.choice(_WORDS).capitalize() if i == 0 else rng.choice(_WORDS)
                             for i in range(rng.randint(5, 9)))
            paragraphs = [_sentences(rng, rng.randint(3, 6)) for _ in range(rng.randint(3, 7))]
            paragraphs[-1] += (f" The allocated budget is {rng.randint(1, 9)},"
                               f"{rng.randint(100, 999)},{rng.randint(100, 999)} tenge.")
            day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            self._articles[n] = (title, paragraphs, day)
        edited = sorted(rng.sample(range(1, pages + 1), max(1, round(pages * CHANGE_SHARE))))
        kinds = [EDIT_KINDS[i % len(EDIT_KINDS)] for i in range(len(edited))]
        rng.shuffle(kinds)
        self._changes = tuple(Edit(n, k) for n, k in zip(edited, kinds, strict=True))
        self._words = _word_plan(pages, set(edited), random.Random(seed + 1))

    def __enter__(self) -> GovkzSite:
        self.replica.start()
        for n, (title, paragraphs, day) in self._articles.items():
            self.replica.add_article(self.ENTITY, n, lang="ru", title=title,
                                     paragraphs=paragraphs, created_date=_created(day))
        return self

    def __exit__(self, *exc: object) -> None:
        self.replica.stop()

    @property
    def server(self) -> ReplicaServer:
        return self.replica

    def urls(self, watcher_name: str) -> list[str]:
        if watcher_name == "monitor":
            return [self.replica.page_url(self.ENTITY, n, "ru") for n in self._articles]
        return [self.replica.api_item_url(n) for n in self._articles]

    def change_edits(self) -> frozenset[int]:
        return self._apply(self._changes)

    def word_edits(self) -> frozenset[int]:
        return self._apply(self._words)

    def again_edits(self) -> frozenset[int]:
        """One more word in each release the change pass edited (for the profile)."""
        return self._apply(tuple(Edit(e.page, "word") for e in self._changes))

    def _apply(self, edits: tuple[Edit, ...]) -> frozenset[int]:
        for edit in edits:
            title, paragraphs, day = self._articles[edit.page]
            new = edit_content(edit.kind, title, paragraphs, day, self._rng)
            if new == (title, paragraphs, day):
                raise AssertionError(f"bench edit {edit} left release {edit.page} unchanged")
            self._articles[edit.page] = new
            self.replica.edit_article(edit.page, "ru", title=new[0], paragraphs=new[1],
                                      created_date=_created(new[2]))
        return frozenset(e.page for e in edits)


class CorpusSite:
    """The `pages` largest pages of the corpus (that can be edited inside the
    article), served at their size with noise around them."""

    kind = "html"

    def __init__(self, directory: Path, pages: int) -> None:
        every = sorted(load_corpus(directory), key=lambda p: len(p.markup.encode("utf-8")),
                       reverse=True)
        self.chosen: list[CorpusPage] = []
        for page in every:
            if len(self.chosen) == pages:
                break
            if edit_in(page.markup, page.truth) is not None:
                self.chosen.append(page)
        self.pages = len(self.chosen)
        self.site = ArticleSite(noise=True, seed=1)

    @property
    def sizes(self) -> list[int]:
        return [len(p.markup.encode("utf-8")) for p in self.chosen]

    def __enter__(self) -> CorpusSite:
        self.site.start()
        for n, page in enumerate(self.chosen, 1):
            self.site.set_page(n, page.markup)
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()

    @property
    def server(self) -> ReplicaServer:
        return self.site

    def urls(self, watcher_name: str) -> list[str]:
        return [self.site.page_url(n) for n in range(1, self.pages + 1)]

    def change_edits(self) -> frozenset[int]:
        """One word inside the article of every page (bench/corpus_edit.py)."""
        for n, page in enumerate(self.chosen, 1):
            edit = edit_in(page.markup, page.truth)
            assert edit is not None
            self.site.set_page(n, edit.markup)
        return frozenset(range(1, self.pages + 1))

    def word_edits(self) -> frozenset[int]:
        return frozenset()  # the change pass is already one word a page


def _sentences(rng: random.Random, count: int) -> str:
    out = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _created(day: str) -> str:
    return f"{day}T10:15:00.000+05:00"
