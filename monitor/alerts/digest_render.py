"""A digest for people: one subject, a plain-text and an HTML body, in the
channel's language and timezone. Documents lead with their title (the source's
name second), the most significant first; under each, its alerts in the order
they were recorded, with the word diff of each change (escaped, as in
monitor/alerts/render.py)."""

from __future__ import annotations

from typing import Any

from monitor.alerts import wording
from monitor.alerts.digest import Digest
from monitor.alerts.render import _ENV, hunk_views, removal_view, text_diff
from monitor.changes.titles import MAX_TITLE
from monitor.i18n import DEFAULT_READER, Reader
from monitor.untrusted import one_line

MAX_SUBJECT = 180


def subject(digest: Digest, r: Reader = DEFAULT_READER) -> str:
    """'[high] Digest, 5 January 2026: 4 changes in 2 documents'."""
    n, docs = len(digest.alerts), len(digest.documents)
    counted = r.ngettext("{n} change", "{n} changes", n).format(n=n)
    where = r.ngettext("in {n} document", "in {n} documents", docs).format(n=docs)
    line = one_line(f"[{wording.level(digest.significance, r)}] "
                    f"{r.gettext('Digest')}, {r.day(digest.start)}: {counted} {where}")
    return line if len(line) <= MAX_SUBJECT else line[:MAX_SUBJECT - 1] + "…"


def _context(digest: Digest, r: Reader) -> dict[str, Any]:
    documents = []
    for group in digest.documents:
        items = [{
            "alert": alert,
            "said": wording.said(alert, r),
            "level": wording.level(alert.significance, r),
            "detected_at": r.moment(alert.detected_at),
            "hunks": hunk_views(alert, r),
            "removal": removal_view(alert, r),
        } for alert in group.alerts]
        documents.append({"group": group,
                          "heading": wording.heading(group.label(MAX_TITLE), r),
                          "title": one_line(group.title or ""),
                          "level": wording.level(group.significance, r), "items": items})
    return {
        "digest": digest, "subject": subject(digest, r), "lang": r.language,
        "_": r.gettext, "period": r.gettext("from {start} to {end}").format(
            start=r.moment(digest.start), end=r.moment(digest.end)),
        "documents": documents, "text_diff": text_diff,
    }


def text_body(digest: Digest, r: Reader = DEFAULT_READER) -> str:
    return _ENV.get_template("digest.txt").render(**_context(digest, r))


def html_body(digest: Digest, r: Reader = DEFAULT_READER) -> str:
    return _ENV.get_template("digest.html").render(**_context(digest, r))


def short_text(digest: Digest, r: Reader = DEFAULT_READER, limit: int = 4000) -> str:
    """Each document's heading and what happened to it, for chat-like channels."""
    lines = [r.gettext("from {start} to {end}").format(start=r.moment(digest.start),
                                                       end=r.moment(digest.end))]
    for group in digest.documents:
        lines.append("")
        lines.append(f"{wording.heading(group.label(MAX_TITLE), r)} "
                     f"[{wording.level(group.significance, r)}]")
        lines.extend(f"- {wording.said(alert, r)}" for alert in group.alerts)
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit - 1] + "…"
