"""What the web bench's store holds: N gov.kz-like sources and M versions, with a
history for each (when it was registered, when it changed, when it failed, whether it
was paused, removed or found gone). Pure and seeded: the same Size gives the same plan.

Three sources are named, for the pages the bench times: DOC (a document with about
50 versions), LONG (two versions of 5,000 words with scattered edits) and RARE_FIRST
(the first of a few documents that say «смертная казнь», the rare phrase searched).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.web_texts import LANGUAGES

DOC = "adilet-press-doc50-ru"
LONG = "adilet-press-long5000-ru"
RARE = 5  # documents that say the rare phrase
DOC_VERSIONS = 50
LONG_WORDS = 5000
LONG_EDITS = 12
HISTORY_DAYS = 730

ENTITIES = ("adilet", "mvd", "dsm", "minfin", "edu", "enbek", "economy", "mfa", "mcriap",
            "mps", "energo", "moa", "ecogeo", "mdai", "kazpravda", "almaty", "astana",
            "shymkent", "karaganda", "aktobe", "pavlodar", "kostanay", "atyrau", "akmola")
# kind: share of sources (gov.kz articles through the API, pages, files)
KINDS = (("govkz", 80), ("html", 12), ("pdf", 6), ("docx", 2))
# fate: what the source's history ends with, and its share
FATES = (("active", 900), ("failing", 40), ("paused", 25), ("removed", 15), ("gone", 10),
         ("never", 5))  # never: failing since registration, no version at all
SPELL_SHARE = 0.10  # sources that failed for a while in the middle of their history
INTERVALS = (900, 1800, 3600, 3600, 21600, 86400)


@dataclass(frozen=True)
class Size:
    sources: int = 10_000
    versions: int = 100_000
    seed: int = 1

    def key(self) -> str:
        return f"s{self.sources}-v{self.versions}-seed{self.seed}"


@dataclass(frozen=True)
class SourcePlan:
    index: int
    name: str
    url: str
    kind: str
    language: str
    interval: int
    words: int
    versions: int
    fate: str
    registered: datetime
    times: tuple[datetime, ...]  # one per version
    end: datetime  # when the fate came (after the last version)
    tags: tuple[str, ...] = ()  # recorded in the source's options, as `monitor add --tag`
    rare: bool = False
    special: str = ""  # "doc" | "long" | ""
    spell_after: int | None = None  # a failure spell after this version (1-based)


def plan(size: Size, now: datetime) -> list[SourcePlan]:
    """Every source's plan; version counts add up to size.versions exactly (a
    version count at least as large as the number of sources is assumed)."""
    rng = random.Random(size.seed)
    n, m = size.sources, size.versions
    if n < 3 or m < n + DOC_VERSIONS:
        raise ValueError(f"the web bench needs at least 3 sources and {DOC_VERSIONS} more "
                         f"versions than sources (asked: {n} sources, {m} versions)")
    fates = [_drawn(rng, FATES) for _ in range(n)]
    fates[0] = fates[1] = "active"
    counts = _version_counts(rng, fates, m)
    plans = []
    rare_left = RARE
    for i in range(n):
        special = "doc" if i == 0 else "long" if i == 1 else ""
        language = "ru" if special else rng.choice(LANGUAGES)
        entity = ENTITIES[i % len(ENTITIES)] if i > 1 else "adilet"
        number = 1_000_000 + i * 37
        name = DOC if special == "doc" else LONG if special == "long" else \
            f"{entity}-press-{number}-{language}"
        kind = "govkz" if special else _drawn(rng, KINDS)
        url = _url(kind, entity, number, language)
        registered = now - timedelta(days=rng.uniform(7, HISTORY_DAYS))
        times = _times(rng, registered, now, counts[i])
        rare = not special and rare_left > 0 and counts[i] > 0 and i % 97 == 5
        rare_left -= rare
        spell = None
        if counts[i] > 1 and rng.random() < SPELL_SHARE and not special:
            spell = rng.randrange(1, counts[i])
        last = times[-1] if times else registered
        plans.append(SourcePlan(
            index=i, name=name, url=url, kind=kind, language=language,
            interval=rng.choice(INTERVALS),
            words=LONG_WORDS if special == "long" else rng.randint(300, 1500),
            versions=counts[i], fate=fates[i], registered=registered, times=times,
            rare=rare, special=special, spell_after=spell,
            tags=tuple(sorted({entity, "documents" if kind in ("pdf", "docx") else "press"})),
            end=last + (now - last) * rng.uniform(0.2, 0.95)))
    return plans


def _drawn(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def _version_counts(rng: random.Random, fates: list[str], total: int) -> list[int]:
    """Most documents never change or change once; a few change often (mean total/N)."""
    n = len(fates)
    counts = [0 if fate == "never" else 1 for fate in fates]
    counts[0], counts[1] = DOC_VERSIONS, 2
    left = total - sum(counts)
    free = [i for i in range(2, n) if fates[i] != "never"]
    mean = left / max(1, len(free))
    for i in free:  # geometric: P(k) falls by (mean / (mean + 1)) per extra version
        k = 0
        while rng.random() < mean / (mean + 1) and k < 40 * mean:
            k += 1
        counts[i] += k
    diff = total - sum(counts)
    while diff:
        i = rng.choice(free)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def _times(rng: random.Random, registered: datetime, now: datetime,
           count: int) -> tuple[datetime, ...]:
    if count == 0:
        return ()
    span = (now - registered).total_seconds() * 0.9
    first = registered + timedelta(seconds=rng.uniform(30, 600))
    later = sorted(rng.uniform(0, span) for _ in range(count - 1))
    return (first, *(registered + timedelta(seconds=600 + s) for s in later))


def _url(kind: str, entity: str, number: int, language: str) -> str:
    base = f"https://www.gov.kz/memleket/entities/{entity}"
    if kind == "pdf":
        return f"{base}/documents/details/{number}/file.pdf"
    if kind == "docx":
        return f"{base}/documents/details/{number}/file.docx"
    return f"{base}/press/news/details/{number}?lang={language}"
