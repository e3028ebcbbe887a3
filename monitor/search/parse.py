# ruff: noqa: RUF001  (the quotation marks of Russian, Kazakh and English)
"""What a user typed into the search box, read as words and phrases.

The syntax is small and cannot fail half-way: every word must appear; words in quotes
("death penalty", «смертная казнь», “…”, „…“) must appear together, in that order;
a * right after a word matches any ending (казн* finds казнь, казни, казнью). Anything
else (operators, brackets, NEAR(, a lone quote) is punctuation, which separates
words and is otherwise ignored. The query reaches the database only as the words'
folded keys, rendered by `to_fts5` and `to_tsquery` with every key quoted, so nothing
typed can become FTS5 or tsquery syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.errors import UsageError
from monitor.search.words import WORD, fold

MAX_QUERY = 500  # characters: a sentence or two, not a pasted page
MAX_TERMS = 12  # words and phrases
MAX_PHRASE = 24  # words in one phrase
# Characters before a *. Over 100,000 versions "пра*" took 4 ms to read and "пр*" 75:
# a short beginning is shared by thousands of words whose lists FTS5 merges.
MIN_PREFIX = 3
# An opening quote and the characters that close it.
QUOTES = {'"': '"', "«": "»", "“": "”\"", "„": "“”\"", "‘": "’", "‚": "‘’"}


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of words that must follow each other."""

    keys: tuple[str, ...]
    prefix: bool = False  # the last key matches any word it begins

    @property
    def is_phrase(self) -> bool:
        return len(self.keys) > 1


@dataclass(frozen=True)
class Query:
    text: str  # as typed (trimmed)
    terms: tuple[Term, ...]


def parse_query(text: str) -> Query:
    """The words and phrases of a query; UsageError (one line) for an empty or too
    long one."""
    typed = " ".join(text.split())
    if not typed:
        raise UsageError("type a word or a phrase to search for")
    if len(typed) > MAX_QUERY:
        raise UsageError(f"the search is too long ({len(typed)} characters; at most "
                         f"{MAX_QUERY})")
    terms: list[Term] = []
    for chunk, quoted in _chunks(typed):
        if quoted:
            terms.extend(_phrase(chunk))
        else:
            terms.extend(_words(chunk))
    unique = tuple(dict.fromkeys(terms))
    if not unique:
        raise UsageError(f"no words to search for in {typed!r} (only letters and digits "
                         "are searched)")
    if len(unique) > MAX_TERMS:
        raise UsageError(f"too many words to search for ({len(unique)}; at most "
                         f"{MAX_TERMS}): quote a phrase, or search for fewer")
    return Query(typed, unique)


def _chunks(typed: str) -> list[tuple[str, bool]]:
    """The query cut into (text, quoted) pieces; an unclosed quote runs to the end."""
    pieces: list[tuple[str, bool]] = []
    start = i = 0
    while i < len(typed):
        closers = QUOTES.get(typed[i])
        if closers is None:
            i += 1
            continue
        pieces.append((typed[start:i], False))
        end = min((j for c in closers if (j := typed.find(c, i + 1)) != -1),
                  default=len(typed))
        pieces.append((typed[i + 1:end], True))
        start = i = end + 1
    pieces.append((typed[start:], False))
    return [(text, quoted) for text, quoted in pieces if text.strip()]


def _words(chunk: str) -> list[Term]:
    return [Term((fold(m.group()),), _starred(chunk, m.end(), m.group()))
            for m in WORD.finditer(chunk)]


def _phrase(chunk: str) -> list[Term]:
    found = list(WORD.finditer(chunk))
    if not found:
        return []
    if len(found) > MAX_PHRASE:
        raise UsageError(f"a phrase of {len(found)} words is too long to search for (at "
                         f"most {MAX_PHRASE})")
    last = found[-1]
    prefix = _starred(chunk, last.end(), last.group())
    return [Term(tuple(fold(m.group()) for m in found), prefix)]


def _starred(chunk: str, end: int, word: str) -> bool:
    starred = chunk.startswith("*", end)
    if starred and len(fold(word)) < MIN_PREFIX:
        raise UsageError(f"{word}* is too short to search by its beginning (at least "
                         f"{MIN_PREFIX} letters before the *)")
    return starred


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression: each term a quoted string (phrase), ANDed."""
    return " AND ".join(_fts5_term(term) for term in query.terms)


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(term.keys).replace('"', '""') + '"'
    return quoted + " *" if term.prefix else quoted


def to_tsquery(query: Query) -> str:
    """A tsquery literal: each key quoted, phrases joined by <->, terms by &."""
    return " & ".join(_tsquery_term(term) for term in query.terms)


def _tsquery_term(term: Term) -> str:
    lexemes = [tsquery_lexeme(key) for key in term.keys]
    if term.prefix:
        lexemes[-1] += ":*"
    return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


def tsquery_lexeme(key: str) -> str:
    return "'" + key.replace("\\", "\\\\").replace("'", "''") + "'"


def words_only(query: Query) -> Query:
    """The query with each phrase's words as words of their own: what every version
    matching the query holds, whatever the order (a GIN index answers it alone)."""
    terms = [Term((key,), term.prefix and i == len(term.keys) - 1)
             for term in query.terms for i, key in enumerate(term.keys)]
    return Query(query.text, tuple(dict.fromkeys(terms)))
