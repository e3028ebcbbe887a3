# ruff: noqa: RUF001  (Russian and Kazakh words, written in Cyrillic on purpose)
"""Relative times ("Updated 5 minutes ago", «2 часа назад», «2 сағат бұрын», «вчера»).

A relative time reads the same on the three loads that learning compares, seconds
apart, so the learner does not see it change; hours later it reads otherwise on every
check. So the learner masks the smallest element that holds one (see
`monitor.sources.volatile`), and extraction cuts one out of a short paragraph, for
pages learned before this existed.

A table of regexes, not dateparser (a dependency already, through htmldate): its
`search_dates` also finds absolute dates ("12 марта 2024", which must stay content),
stops Kazakh phrases short («2 сағат», without «бұрын»: its kk data has no ago-word),
and costs 1.1 s to import, 0.9 s to warm and 0.26 s per text without a date
(measured on this machine): a page's ~2,000 elements would take minutes. Its
vocabulary (the unit forms and ago-words of its ru, kk and en data) is what the table
below spells; tests check that dateparser reads every phrase the table matches as a
relative date.
"""

from __future__ import annotations

import re

# A count: digits, or the words for "one", "a few", "half" that stand for one.
_COUNT = (r"(?:\d{1,4}|an?|one|a\s+few|few|several|half\s+an|"
          r"одну|один|одна|пару|несколько|полчаса|"
          r"бір|екі|үш|бірнеше|жарты)")
_EN_UNITS = (r"(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?|weeks?|wks?|months?|"
             r"mos?|years?|yrs?|[smhdwy])")
_RU_UNITS = (r"(?:секунд[уы]?|сек|минут[уы]?|мин|час(?:а|ов)?|ч|дн(?:я|ей)?|день|"
             r"сут(?:ки|ок)|недел[юиь]|нед|месяц(?:а|ев)?|мес|год(?:а)?|лет)")
_KK_UNITS = r"(?:секунд|сек|минут|мин|сағат|сағ|күн|апта|ай|жыл)"
_CLOCK = r"(?:\s*(?:,|в|at|сағат)?\s*\d{1,2}[:.]\d{2})?"

PHRASES: dict[str, str] = {
    # number + unit + ago-word, each language's forms
    "en": rf"(?:{_COUNT}\s*{_EN_UNITS}\.?\s+ago|(?:just\s+now|moments?\s+ago|"
          rf"a\s+moment\s+ago|(?:yesterday|today){_CLOCK}))",
    "ru": rf"(?:(?:{_COUNT}\s*)?{_RU_UNITS}\.?\s+назад|(?:только\s+что|"
          rf"(?:позавчера|вчера|сегодня){_CLOCK}))",
    "kk": rf"(?:{_COUNT}\s*{_KK_UNITS}\.?\s+бұрын(?:\s+ғана)?|(?:жаңа\s+ғана|"
          rf"(?:кеше|бүгін){_CLOCK}))",
}
# Letters on either side would make it part of a word ("todays", «вчерашний»).
RELATIVE_TIME = re.compile(
    r"(?<![\w-])(?:" + "|".join(PHRASES.values()) + r")(?![\w-])", re.IGNORECASE)
# Every phrase holds one of these words. Searched first, they bring the cut from 4 ms
# to 0.9 ms for a page of 200 paragraphs, 100 of them short and none with a relative
# time (measured on a loaded 2-core machine); it runs only when a page is extracted.
_HINT = re.compile(r"ago|now|yesterday|today|назад|вчера|сегодня|только|бұрын|кеше|бүгін|"
                   r"жаңа", re.IGNORECASE)
# A short paragraph is a line of page furniture ("Обновлено 2 часа назад"), not a
# sentence of the document; longer ones are left alone, as an article may say "two
# days ago" in a sentence that is its content.
MAX_SHORT = 80
_LEFTOVER = re.compile(r"^[\W_]*$")


def has_relative_time(text: str) -> bool:
    return _HINT.search(text) is not None and RELATIVE_TIME.search(text) is not None


def without_relative_times(paragraphs: list[str]) -> list[str]:
    """`paragraphs` with the relative times cut out of the short ones, and those left
    with nothing but punctuation dropped. Cheap: one regex search per short paragraph."""
    kept: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= MAX_SHORT and has_relative_time(paragraph):
            paragraph = " ".join(RELATIVE_TIME.sub(" ", paragraph).split())
            if _LEFTOVER.match(paragraph):
                continue
        kept.append(paragraph)
    return kept
