"""What an alert says, in the reader's language: summaries, places, levels.

English messages keep the words recorded with the event (the summary of a
change is written when it is detected); other languages rebuild them from the
change's hunks with the gettext catalogs (monitor.i18n), in the same order
and with the same counts as monitor.classify.summarize.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor import classify
from monitor.changes.data import location
from monitor.diff import Hunk, _summary_item
from monitor.i18n import Reader
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.alerts.alert import Alert

_LISTED_PARAGRAPHS = 5


def _phrases(r: Reader) -> dict[str, Callable[[int], str]]:
    """Summary phrases, most telling first (as classify._PHRASES), by count."""
    g, n = r.gettext, r.ngettext
    return {
        classify.TITLE: lambda k: g("title changed"),
        classify.DATE: lambda k: g("date changed"),
        classify.NUMBER: lambda k: n("{n} number changed", "{n} numbers changed", k),
        classify.NAME: lambda k: n("{n} wording edit touching a name",
                                   "{n} wording edits touching a name", k),
        classify.PARAGRAPH_REMOVED: lambda k: n("{n} paragraph removed",
                                                "{n} paragraphs removed", k),
        classify.WORDING: lambda k: n("{n} wording edit", "{n} wording edits", k),
        classify.PARAGRAPH_ADDED: lambda k: n("{n} paragraph added", "{n} paragraphs added", k),
        classify.PARAGRAPH_MOVED: lambda k: n("{n} paragraph moved", "{n} paragraphs moved", k),
        classify.CONFUSABLE: lambda k: n("{n} look-alike letter swap",
                                         "{n} look-alike letter swaps", k),
        classify.TYPOGRAPHY: lambda k: n("{n} typographic change",
                                         "{n} typographic changes", k),
    }


def change_summary(hunks: tuple[Hunk, ...], r: Reader) -> str:
    """'2 numbers changed in paragraph 2' in the reader's language."""
    counts: dict[str, int] = {}
    places: dict[str, list[str]] = {}
    dates: dict[str, tuple[str, str]] = {}
    for hunk in hunks:
        label, count, place = _summary_item(hunk)
        counts[label] = counts.get(label, 0) + count
        if hunk.kind == classify.DATE:
            dates.setdefault(label, (hunk.old, hunk.new))
        elif place and place not in places.setdefault(label, []):
            places[label].append(place)
    parts = []
    for label, phrase in _phrases(r).items():
        if label not in counts:
            continue
        text = phrase(counts[label]).format(n=counts[label])
        if label in dates:
            old, new = dates[label]
            text += " " + r.gettext("from {old} to {new}").format(old=old, new=new)
        elif shown := places.get(label):
            listed = ", ".join(shown[:_LISTED_PARAGRAPHS])
            # one or several: a count of 21 must not read as one in Russian
            text += " " + r.ngettext("in paragraph {places}", "in paragraphs {places}",
                                     min(len(shown), 2)).format(places=listed)
            if len(shown) > _LISTED_PARAGRAPHS:
                text += " " + r.gettext("and {n} more").format(n=len(shown) - _LISTED_PARAGRAPHS)
        parts.append(text)
    return "; ".join(parts) or r.gettext("no change")


def said(alert: Alert, r: Reader) -> str:
    """The summary as one line. A publication's summary repeats the title the
    message already leads with, so it says what happened instead."""
    if alert.kind == "published":
        return r.gettext("new document published")
    if r.language == "en" or alert.kind not in ("changed", "removed", "failing"):
        return one_line(alert.summary)
    if alert.kind == "changed":
        return change_summary(alert.hunks, r)
    if alert.kind == "removed" and alert.record is not None and alert.record.removal:
        return r.gettext("removed: judged gone on {n} consecutive checks").format(
            n=alert.record.removal.confirmations)
    failing = alert.details.get("failing") or {}
    error = failing.get("error") or {}
    message = one_line(f"{error.get('kind', '')}: {error.get('message', '')}")
    return r.gettext("source failing ({n} failures recorded): {message}").format(
        n=failing.get("failures", "?"), message=message)


def where(hunk: Hunk, r: Reader) -> str:
    """Where the hunk is: 'paragraph 3', 'абзац 3', '3-абзац'."""
    place = location(hunk)
    if place["field"] == "title":
        return r.gettext("title")
    if place["field"] == "date":
        return r.gettext("date")
    old, new = place["old_paragraph"], place["new_paragraph"]
    if new is None:
        return r.gettext("paragraph {old} of the previous version").format(old=old)
    if old is None or old == new:
        return r.gettext("paragraph {new}").format(new=new)
    if hunk.kind == classify.PARAGRAPH_MOVED:
        return r.gettext("paragraph {old} → {new}").format(old=old, new=new)
    return r.gettext("paragraph {new} (was {old})").format(old=old, new=new)


def kind_name(kind: str, r: Reader) -> str:
    """A hunk's kind for people: 'number', 'paragraph added'."""
    names = {
        classify.TYPOGRAPHY: r.gettext("typography"),
        classify.CONFUSABLE: r.gettext("look-alike letters"),
        classify.WORDING: r.gettext("wording"),
        classify.NUMBER: r.gettext("number"),
        classify.PARAGRAPH_ADDED: r.gettext("paragraph added"),
        classify.PARAGRAPH_REMOVED: r.gettext("paragraph removed"),
        classify.PARAGRAPH_MOVED: r.gettext("paragraph moved"),
        classify.TITLE: r.gettext("title"),
        classify.DATE: r.gettext("date"),
    }
    return names.get(kind, kind.replace("_", " "))


def heading(label: str, r: Reader) -> str:
    """A label from monitor.changes.titles with its '(title unknown)' in the reader's
    language."""
    unknown = " (title unknown)"
    if r.language != "en" and label.endswith(unknown):
        return f"{label.removesuffix(unknown)} ({r.gettext('title unknown')})"
    return label


def level(significance: str, r: Reader) -> str:
    names = {"high": r.gettext("high"), "medium": r.gettext("medium"),
             "low": r.gettext("low"), "none": r.gettext("none")}
    return names.get(significance, significance)
