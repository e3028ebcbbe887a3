"""How a document was judged gone: the answers that count as "not found".

Real sites rarely answer a removed article with a plain 404. They redirect it to
the home page or to the section's index, to a "document moved" page that many
removed articles share, or answer 200 with their not-found message; gov.kz's API
may answer `null`. Each of these is a `not_found` failure here, confirmed over
`not_found_confirmations` checks like a 404 (monitor.check), and the removal
records which rule judged it (`judged_by`) with its evidence.

Pure functions: URLs and text in, a `Judgement` or None out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from monitor.normalize import normalize_text

HTTP_404, HTTP_410, API_NOT_FOUND, API_NULL = "http_404", "http_410", "api_not_found", "api_null"
REDIRECT_TO_HOME, REDIRECT_TO_SECTION = "redirect_to_home", "redirect_to_section"
SHARED_SIGNPOST, SOFT_404_TEXT = "shared_signpost", "soft_404_text"
JUDGEMENTS = (HTTP_404, HTTP_410, API_NOT_FOUND, API_NULL, REDIRECT_TO_HOME,
              REDIRECT_TO_SECTION, SHARED_SIGNPOST, SOFT_404_TEXT)

# Language roots a site's home page lives under (`/ru`, `/kk/`, `/en-us`).
_LANGUAGE_ROOT = re.compile(r"^/(?:[a-z]{2}|[a-z]{2}[-_][a-z]{2})/?$", re.IGNORECASE)
# A final URL other watched sources of the host were redirected to as well: with this
# one, three sources. Two is too few: the ru and kk variants of one article may both
# redirect to the same language-less address, which is not a removal.
SIGNPOST_OTHERS = 2

# Not-found messages, casefolded, as sites (gov.kz among them) show them.
NOT_FOUND_PHRASES: tuple[str, ...] = (
    # en
    "the page you requested does not exist", "the page you are looking for does not exist",
    "page not found", "404 not found", "not found", "404",
    # ru
    "запрашиваемая страница не найдена", "страница не найдена", "ошибка 404",
    "страница не существует", "документ не найден",
    # kk
    "сұралған бет табылмады", "бет табылмады", "парақ табылмады", "қате 404",
    "бет жоқ",
)
# A page is judged by its text only when it is short and mostly the message: a long
# article that mentions "404" (a law number, an error it reports) is an article.
SHORT_PAGE_CHARS = 300
MAX_OTHER_WORDS = 12  # words beside the message ("Go back to the home page", a date)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Judgement:
    """Why an answer counts as "not found", and what showed it."""

    judged_by: str  # one of JUDGEMENTS
    said: str  # for people: "redirected to the home page https://…/"
    evidence: dict[str, Any] = field(default_factory=dict)  # final_url, status, phrase


def judge_redirect(watched: str, final: str, redirects: Sequence[str],
                   signposts: Collection[str] = (), status: int | None = 200
                   ) -> Judgement | None:
    """A redirect of the watched URL to a page that is not a document: the home page,
    an ancestor of its path (the section index), or a shared signpost (a final URL
    in `signposts`, where other sources' redirects lead too)."""
    if not redirects or final == watched:
        return None
    was, now = urlsplit(watched), urlsplit(final)
    old_path, new_path = _path(was.path), _path(now.path)
    if now.netloc.lower() != was.netloc.lower() or new_path == old_path:
        return None  # another site, or only the scheme, query or slash changed
    if _is_home(old_path):
        return None  # a watched home page that goes to its language root is still home
    evidence = {"final_url": final, "status": status, "redirects": list(redirects)}
    if _is_home(new_path):
        return Judgement(REDIRECT_TO_HOME, f"redirected to the home page {final}", evidence)
    if old_path.startswith(new_path + "/"):
        return Judgement(REDIRECT_TO_SECTION, f"redirected to the section index {final}",
                         evidence)
    if final in signposts:
        return Judgement(SHARED_SIGNPOST, f"redirected to {final}, where pages of other "
                         "watched sources lead too", evidence)
    return None


def judge_text(title: str | None, paragraphs: Sequence[str], *, url: str = "",
               status: int | None = 200) -> Judgement | None:
    """A page whose whole text is short and is the site's not-found message."""
    text = normalize_text(" ".join(p for p in (title or "", *paragraphs) if p)).casefold()
    if not text or len(text) > SHORT_PAGE_CHARS:
        return None
    found = [p for p in NOT_FOUND_PHRASES if re.search(_bounded(p), text)]
    if not found:
        return None
    rest = text
    for phrase in sorted(found, key=len, reverse=True):  # the longest first: whole
        rest = re.sub(_bounded(phrase), " ", rest)
    if len(_WORD.findall(rest)) > MAX_OTHER_WORDS:
        return None  # more than the message: a short article, not a not-found page
    phrase = max(found, key=len)  # the most telling: "страница не найдена" over "404"
    return Judgement(SOFT_404_TEXT, f"the page says “{phrase}”",
                     {"final_url": url, "status": status, "phrase": phrase})


def for_status(status: int | None) -> str:
    """The judgement of a plain HTTP answer (or of an old event that had only that)."""
    return HTTP_410 if status == 410 else HTTP_404 if status == 404 else API_NOT_FOUND


def removal_said(data: Mapping[str, Any]) -> str:
    """How a DocumentRemoved's data says it was judged, for people."""
    judged_by = data.get("judged_by") or for_status(data.get("status"))
    evidence = data.get("evidence") or {}
    final, phrase = evidence.get("final_url"), evidence.get("phrase")
    match judged_by:
        case "redirect_to_home":
            return "redirected to the home page" + (f" {final}" if final else "")
        case "redirect_to_section":
            return "redirected to the section index" + (f" {final}" if final else "")
        case "shared_signpost":
            return "redirected to a page other removed documents lead to" + (
                f" {final}" if final else "")
        case "soft_404_text":
            return "the page says it was not found" + (f" (“{phrase}”)" if phrase else "")
        case "api_null":
            return "the API answered null for the article"
    status = data.get("status")
    return "not found" + (f" (HTTP {status})" if status else "")


def removal_summary(data: Mapping[str, Any]) -> str:
    """'removed: redirected to the home page https://…/ on 3 consecutive checks'; a
    plain 404 keeps the words it always had."""
    checks = data.get("confirmations")
    judged_by = data.get("judged_by") or for_status(data.get("status"))
    if judged_by in (HTTP_404, HTTP_410, API_NOT_FOUND):
        status = data.get("status")
        return f"removed: not found on {checks} consecutive checks" + (
            f" (HTTP {status})" if status else "")
    return f"removed: {removal_said(data)}, on {checks} consecutive checks"


def _path(path: str) -> str:
    """A URL path without its trailing slashes ('' for the root)."""
    return path.rstrip("/")


def _is_home(path: str) -> bool:
    return path == "" or bool(_LANGUAGE_ROOT.match(path + "/"))


def _bounded(phrase: str) -> str:
    """The phrase as a pattern that matches whole words only."""
    return rf"(?<!\w){re.escape(phrase)}(?!\w)"
