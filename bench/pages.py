"""The bench's pages: a NoisySite with N pages, some numbers in the text, and known edits.

Every page carries the site's noise (view counter inside the article, clock, rotating
banner and related block, CSRF token, asset versions). About a fifth of the pages also
say a sum of money in their body, so that "one digit changed" is an edit the bench can
make. The edited pages and how each was edited are drawn from the seed before the first
load, and are the ground truth for precision and recall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.replica.noisy_site import NoisySite, PageContent

EDIT_KINDS = (
    "digit",  # one digit of a sum in the body
    "word",  # one word of a paragraph replaced
    "homoglyph",  # one Latin letter replaced by its Cyrillic look-alike
    "sentence-reworded",  # one sentence rewritten
    "paragraph-added",
    "paragraph-removed",
    "title",  # one word of the title replaced
    "date",  # the publication date, one day later
)
NUMBERED_SHARE = 0.2
_HOMOGLYPHS = {"a": "\u0430", "o": "\u043e", "e": "\u0435", "c": "\u0441", "p": "\u0440"}
_NEW_WORDS = ("committee", "decision", "inspection", "parliament", "tariff", "pension")


@dataclass(frozen=True)
class Edit:
    page: int
    kind: str


class BenchSite:
    """A running NoisySite plus the plan of which pages the bench edits, and how."""

    def __init__(self, pages: int, *, seed: int = 2025, edit_share: float = 0.05) -> None:
        self.pages = pages
        self.site = NoisySite(pages=pages, seed=seed)
        rng = random.Random(seed)
        edited = sorted(rng.sample(range(1, pages + 1), max(1, round(pages * edit_share))))
        kinds = [EDIT_KINDS[i % len(EDIT_KINDS)] for i in range(len(edited))]
        rng.shuffle(kinds)
        self.edits = tuple(Edit(n, k) for n, k in zip(edited, kinds, strict=True))
        must_number = {e.page for e in self.edits if e.kind == "digit"}
        others = [n for n in range(1, pages + 1) if n not in must_number]
        extra = rng.sample(others, max(0, round(pages * NUMBERED_SHARE) - len(must_number)))
        self.numbered = frozenset(must_number | set(extra))
        self._rng = rng

    def __enter__(self) -> BenchSite:
        self.site.start()
        for n in sorted(self.numbered):
            page = self._current(n)
            r = self._rng.randint
            sum_ = f"{r(1, 9)},{r(100, 999)},{r(100, 999)}"
            paragraphs = [*page.paragraphs[:-1],
                          f"{page.paragraphs[-1]} The allocated budget is {sum_} tenge."]
            self.site.set_page(n, page.title, paragraphs, published=page.published)
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()

    @property
    def urls(self) -> list[str]:
        return [self.site.page_url(n) for n in range(1, self.pages + 1)]

    @property
    def edited_pages(self) -> frozenset[int]:
        return frozenset(e.page for e in self.edits)

    def page_of(self, url: str) -> int:
        return int(url.rstrip("/").rsplit("/", 1)[1])

    def apply_edits(self, edits: tuple[Edit, ...] | None = None) -> None:
        """Make the planned edits (all of them, or those given); each one is a real
        change a reader would want to know."""
        for edit in self.edits if edits is None else edits:
            page = self._current(edit.page)
            title, paragraphs, published = edit_content(
                edit.kind, page.title, page.paragraphs, page.published, self._rng)
            if (title, tuple(paragraphs), published) == (page.title, page.paragraphs,
                                                         page.published):
                raise AssertionError(f"bench edit {edit} left page {edit.page} unchanged")
            self.site.set_page(edit.page, title, paragraphs, published=published)

    def _current(self, n: int) -> PageContent:
        page = self.site.page(n)
        if page is None:
            raise KeyError(f"no page {n}")
        return page


def edit_content(kind: str, title: str, paragraphs: tuple[str, ...] | list[str],
                 published: str, rng: random.Random) -> tuple[str, list[str], str]:
    """An article's title, paragraphs and date (ISO) after one edit of `kind`
    (EDIT_KINDS; "digit" needs a digit in the last paragraph)."""
    paragraphs = list(paragraphs)
    i = rng.randrange(len(paragraphs))
    match kind:
        case "digit":
            paragraphs[-1] = _bump_last_digit(paragraphs[-1])
        case "word":
            paragraphs[i] = _replace_word(paragraphs[i], rng)
        case "homoglyph":
            paragraphs[i] = _homoglyph(paragraphs[i], rng)
        case "sentence-reworded":
            sentences = paragraphs[i].split(". ")
            j = rng.randrange(len(sentences))
            sentences[j] = "The ministry postponed the decision until further notice"
            paragraphs[i] = ". ".join(sentences)
        case "paragraph-added":
            paragraphs.append("The agency will publish the full report next month.")
        case "paragraph-removed":
            del paragraphs[i]
        case "title":
            title = _replace_word(title, rng)
        case "date":
            published = (date.fromisoformat(published) + timedelta(days=1)).isoformat()
        case _:
            raise ValueError(f"no such edit kind: {kind}")
    return title, paragraphs, published


def _bump_last_digit(text: str) -> str:
    for i in range(len(text) - 1, -1, -1):
        if text[i].isdigit():
            return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:]
    raise ValueError("no digit to change")


def _replace_word(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 3]
    i = rng.choice(candidates)
    new = rng.choice([w for w in _NEW_WORDS if w != words[i].lower()])
    words[i] = new.capitalize() if words[i][0].isupper() else new
    return " ".join(words)


def _homoglyph(text: str, rng: random.Random) -> str:
    spots = [i for i, ch in enumerate(text) if ch in _HOMOGLYPHS]
    i = rng.choice(spots)
    return text[:i] + _HOMOGLYPHS[text[i]] + text[i + 1:]
