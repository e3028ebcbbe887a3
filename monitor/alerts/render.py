"""Alerts for people: a subject line, a plain-text and an HTML body.

Page text is untrusted. The HTML comes from Jinja2 templates with autoescape
on (monitor/alerts/templates/), so `<script>` in a page arrives as text; only
http(s) URLs become links; control characters are dropped; every hunk is
shortened to the changed words and some context around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from monitor.alerts.alert import Alert, iso_utc, where
from monitor.classify import DELETE, EQUAL, INSERT
from monitor.diff import render_word_diff

CONTEXT = 120  # characters of unchanged text kept on each side of an edit
MAX_RUN = 2000  # characters of one inserted or deleted run
MAX_HUNKS = 20  # hunks shown in one message
MAX_SUBJECT = 180
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class HunkView:
    where: str
    kind: str
    runs: tuple[tuple[str, str], ...]  # (equal|delete|insert, text)


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


def subject(alert: Alert) -> str:
    """One line: "[high] mfa-…: 1 number changed in paragraph 3"."""
    line = " ".join(_CONTROL.sub(" ", f"[{alert.significance}] {alert.source_name}: "
                                 f"{alert.summary}").split())
    return line if len(line) <= MAX_SUBJECT else line[:MAX_SUBJECT - 1] + "…"


def hunk_views(alert: Alert) -> list[HunkView]:
    return [HunkView(where(h), h.kind, tuple(shorten(render_word_diff(h))))
            for h in alert.hunks[:MAX_HUNKS]]


def text_body(alert: Alert) -> str:
    return _ENV.get_template("email.txt").render(**_context(alert))


def html_body(alert: Alert) -> str:
    return _ENV.get_template("email.html").render(**_context(alert))


def short_text(alert: Alert, limit: int = 1500) -> str:
    """The summary and a compact diff, for chat-like channels."""
    lines = [alert.summary]
    for view in hunk_views(alert):
        lines.append(f"{view.where}: {text_diff(view.runs)}")
    lines.append(f"{alert.source_url}".strip())
    lines.append(f"history: {alert.history_command}")
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


def _context(alert: Alert) -> dict[str, Any]:
    document = alert.details.get("document") or {}
    return {
        "alert": alert,
        "subject": subject(alert),
        "detected_at": iso_utc(alert.detected_at),
        "source_link": _link(alert.source_url),
        "document": document,
        "document_link": _link(str(document.get("url") or "")),
        "failing": alert.details.get("failing"),
        "hunks": hunk_views(alert),
        "omitted": max(0, len(alert.hunks) - MAX_HUNKS),
        "text_diff": text_diff,
    }
