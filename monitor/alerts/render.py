"""Alerts for people: a subject line, a plain-text and an HTML body.

Every alert leads with the document's title (the source's name second, and
instead of the title when none is known). Page text is untrusted. The HTML comes
from Jinja2 templates with autoescape on (monitor/alerts/templates/), so
`<script>` in a page arrives as text; only http(s) URLs become links; control
characters are dropped; titles in the subject are one line and capped; every hunk
is shortened to the changed words and some context around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from monitor.alerts import wording
from monitor.alerts.alert import Alert
from monitor.changes.record import VersionRef
from monitor.changes.titles import MAX_TITLE
from monitor.classify import DELETE, EQUAL, INSERT
from monitor.diff import render_word_diff
from monitor.i18n import DEFAULT_READER, Reader
from monitor.untrusted import one_line

CONTEXT = 120  # characters of unchanged text kept on each side of an edit
MAX_RUN = 2000  # characters of one inserted or deleted run
MAX_HUNKS = 20  # hunks shown in one message
MAX_SUBJECT = 180
SUBJECT_TITLE = 70  # characters of the title in a subject; the summary follows it
EXCERPT = 1500  # characters of a removed document's last text shown in a message
# Removed from every string a template prints: C0 and C1 controls (but tab, line
# breaks) and the bidi overrides that show page text in another order than stored.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class HunkView:
    where: str
    kind: str
    runs: tuple[tuple[str, str], ...]  # (equal|delete|insert, text)


@dataclass(frozen=True)
class RemovalView:
    """What a removal alert shows of the text the document last had."""

    version: str  # "version 3, captured 2025-12-11T09:30:00Z, dated 2025-12-11"
    excerpt: str  # its first paragraphs
    more: int  # characters left out
    command: str  # how to read it whole
    judged: str = ""  # how it was judged gone: "redirected to the home page https://…/"


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub("", value)
    return value


_ENV = Environment(
    loader=PackageLoader("monitor.alerts", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                 default=True),
    undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True,
)


def subject(alert: Alert, r: Reader = DEFAULT_READER) -> str:
    """One line: "[high] Title (source): 1 number changed in paragraph 3"."""
    line = one_line(f"[{wording.level(alert.significance, r)}] "
                    f"{wording.heading(alert.label(SUBJECT_TITLE), r)}: "
                    f"{wording.said(alert, r)}")
    return line if len(line) <= MAX_SUBJECT else line[:MAX_SUBJECT - 1] + "…"


def hunk_views(alert: Alert, r: Reader = DEFAULT_READER) -> list[HunkView]:
    return [HunkView(wording.where(h, r), wording.kind_name(h.kind, r),
                     tuple(shorten(render_word_diff(h))))
            for h in alert.hunks[:MAX_HUNKS]]


def text_body(alert: Alert, r: Reader = DEFAULT_READER) -> str:
    return _ENV.get_template("email.txt").render(**_context(alert, r))


def html_body(alert: Alert, r: Reader = DEFAULT_READER) -> str:
    return _ENV.get_template("email.html").render(**_context(alert, r))


def short_text(alert: Alert, limit: int = 1500, r: Reader = DEFAULT_READER) -> str:
    """The title, the summary and a compact diff, for chat-like channels."""
    _ = r.gettext
    lines = [wording.heading(alert.label(MAX_TITLE), r), wording.said(alert, r)]
    for view in hunk_views(alert, r):
        lines.append(f"{view.where}: {text_diff(view.runs)}")
    removal = removal_view(alert, r)
    if removal is not None:
        lines.append(_("judged gone: {how}").format(how=removal.judged))
        lines.append(_("last {version}; read it: {command}").format(
            version=removal.version, command=removal.command))
    lines.append(f"{alert.source_url}".strip())
    history = (alert.data.get("links") or {}).get("history")
    lines.append(_("history: {command}").format(command=history or alert.history_command))
    text = "\n".join(line for line in lines if line)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def text_diff(runs: tuple[tuple[str, str], ...]) -> str:
    """Word diff in plain text: [-deleted-]{+inserted+}."""
    marks = {DELETE: "[-{}-]", INSERT: "{{+{}+}}", EQUAL: "{}"}
    return "".join(marks.get(tag, "{}").format(text) for tag, text in runs)


def shorten(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the edits whole (up to MAX_RUN) and only CONTEXT characters of the
    unchanged text on each side of them."""
    if len(runs) == 1:
        return [(runs[0][0], _cut(runs[0][1], MAX_RUN))]
    last = len(runs) - 1
    return [
        (tag, _around(text, head=i > 0, tail=i < last) if tag == EQUAL else _cut(text, MAX_RUN))
        for i, (tag, text) in enumerate(runs)
    ]


def excerpt(text: str, limit: int = EXCERPT) -> tuple[str, int]:
    """The start of a text, cut at a paragraph end (else a word end) before
    `limit`; and how many characters were left out."""
    if len(text) <= limit:
        return text, 0
    cut = text.rfind("\n\n", 0, limit)
    if cut < limit // 3:
        cut = text.rfind(" ", 0, limit)
    cut = cut if cut > 0 else limit
    return text[:cut].rstrip() + " …", len(text) - cut


def version_line(version: VersionRef, r: Reader = DEFAULT_READER) -> str:
    """'version 3, captured 11 December 2025, 14:30:00 +0500, dated 2025-12-11'."""
    line = r.gettext("version {number}, captured {moment}").format(
        number=version.number, moment=r.moment(version.captured_at))
    if version.published:
        line += ", " + r.gettext("dated {date}").format(date=one_line(version.published))
    return line


def removal_view(alert: Alert, r: Reader = DEFAULT_READER) -> RemovalView | None:
    record = alert.record
    if record is None or record.removal is None:
        return None
    last = record.from_version
    shown, more = excerpt(record.removal.last_text)
    judged = one_line(record.removal.said)
    if last is None:
        return RemovalView(r.gettext("version unknown"), shown, more, alert.history_command,
                           judged)
    return RemovalView(version_line(last, r), shown, more,
                       f"monitor show {alert.source_name}@{last.number}", judged)


def _around(text: str, *, head: bool, tail: bool) -> str:
    """Unchanged text between edits: its start (after an edit) and its end
    (before one), with an ellipsis for what is left out."""
    kept = CONTEXT * (head + tail)
    if len(text) <= kept + 1:
        return text
    return (text[:CONTEXT] if head else "") + "…" + (text[-CONTEXT:] if tail else "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _link(url: str) -> str | None:
    return url if re.match(r"^https?://[^\s\"'<>]+$", url or "") else None


def _context(alert: Alert, r: Reader) -> dict[str, Any]:
    record = alert.record
    publication = record.publication if record is not None else None
    change = record.title_change if record is not None else None
    old, new = (record.from_version, record.to_version) if record is not None else (None, None)
    links = alert.data.get("links") or {}
    return {
        "alert": alert,
        "subject": subject(alert, r),
        "lang": r.language,
        "_": r.gettext,
        "ngettext": r.ngettext,
        "level": wording.level(alert.significance, r),
        "heading": wording.heading(alert.label(MAX_TITLE), r),
        "classes": ", ".join(wording.kind_name(c, r) for c in alert.classes),
        "title": one_line(alert.title or ""),
        "title_change": (one_line(change[0]), one_line(change[1])) if change else None,
        "said": wording.said(alert, r),
        "detected_at": r.moment(alert.detected_at),
        "source_link": _link(alert.source_url),
        "versions": (r.gettext("{old} → {new}, captured {then} and {now}").format(
            old=old.number, new=new.number, then=r.moment(old.captured_at),
            now=r.moment(new.captured_at)) if old is not None and new is not None else ""),
        "publication": publication,
        "publication_title": one_line(publication.title) if publication else "",
        "document_link": _link(publication.url) if publication else None,
        "removal": removal_view(alert, r),
        "failing": alert.details.get("failing"),
        "failing_since": _since(alert, r),
        "hunks": hunk_views(alert, r),
        "omitted": max(0, len(alert.hunks) - MAX_HUNKS),
        "diff_link": _link(str(links.get("diff") or "")),
        "diff_command": (links.get("commands") or {}).get("diff"),
        "archive_link": _link(str(links.get("archive") or "")),
        "history_link": _link(str(links.get("history") or "")),
        "text_diff": text_diff,
        "label": _label,
    }


def _label(name: str, width: int = 14) -> str:
    """'significance: ' padded, so the values of a plain-text message line up."""
    return f"{name}:".ljust(width - 1) + " "


def _since(alert: Alert, r: Reader) -> str:
    """When a failing source's streak began, in the reader's time."""
    since = (alert.details.get("failing") or {}).get("since")
    if not since:
        return ""
    try:
        return r.moment(datetime.fromisoformat(str(since).replace("Z", "+00:00")))
    except ValueError:
        return str(since)
