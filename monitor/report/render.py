"""Pure renderers of one hunk or one change: text, markdown and HTML.

Shared by the report and the alert channels, so a change reads the same in a
terminal, a ticket and an email. Data in, text out; no I/O.

Page content is untrusted. Every renderer neutralizes control characters (a
page must not drive the reader's terminal); markdown escapes its syntax; HTML
is built with `markupsafe`, so every piece of page text is escaped (see
`escape`). The word diff is shown as `runs.display_runs` prepares it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from markupsafe import Markup

from monitor import classify
from monitor.changes.data import where
from monitor.diff import Hunk
from monitor.report.escape import (
    escape_line_starts,
    escape_markdown,
    escape_markdown_inline,
    link_url,
    printable,
)
from monitor.report.runs import display_runs

__all__ = [
    "CSS", "DEL_STYLE", "INS_STYLE", "change_html", "change_markdown", "change_text",
    "display_runs", "escape_markdown", "hunk_html", "hunk_label", "hunk_markdown",
    "hunk_text", "link_url", "lookalikes", "printable",
]

_MAX_LOOKALIKES = 5
_RED, _GREEN, _DIM, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"

# Inline on <del>/<ins> so the diff shows in mail clients that drop <style>.
DEL_STYLE = "background:#ffd7d5;color:#82071e;text-decoration:line-through;padding:0 .1em"
INS_STYLE = "background:#ccffd8;color:#055d20;text-decoration:none;padding:0 .1em"

CSS = """\
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#fff;margin:0 auto;max-width:60rem;padding:1rem 1.5rem}
h1{font-size:1.4rem;margin:.5rem 0}
h2{font-size:1.1rem;margin:0 0 .25rem}
a{color:#0969da}
.meta{color:#59636e;font-size:.9rem;margin:.2rem 0}
.change{border:1px solid #d1d9e0;border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
.sig{display:inline-block;border-radius:1rem;padding:0 .5rem;font-size:.8rem;font-weight:600}
.sig-high{background:#ffebe9;color:#82071e}
.sig-medium{background:#fff8c5;color:#7d4e00}
.sig-low,.sig-none{background:#eef1f4;color:#59636e}
.hunk{margin:.75rem 0 0}
.hunk-where{color:#59636e;font-size:.85rem;font-weight:600;margin:0}
.hunk-text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0 0;
border-left:3px solid #d1d9e0;padding-left:.75rem}
del.diff-del{background:#ffd7d5;color:#82071e;text-decoration:line-through;padding:0 .1em}
ins.diff-ins{background:#ccffd8;color:#055d20;text-decoration:none;padding:0 .1em}
"""


def hunk_label(hunk: Hunk) -> str:
    """'paragraph 3 · number, wording · high': where, what kind, how much it matters."""
    others = [c for c in hunk.classes if c != hunk.kind]
    if hunk.kind in (classify.TITLE, classify.DATE):  # the location names it already
        kinds = others or ["edited"]
    else:
        kinds = [hunk.kind, *others]
    names = ", ".join(k.replace("_", " ") for k in kinds)
    return f"{where(hunk)} · {names} · {hunk.significance}"


def lookalikes(hunk: Hunk) -> tuple[str, ...]:
    """Letters swapped for look-alikes from another script, which no reader
    can see: ('U+0061 LATIN SMALL LETTER A → U+0430 CYRILLIC SMALL LETTER A',)."""
    found: list[str] = []
    for op in hunk.ops:
        if op.tag != classify.REPLACE or not classify.is_confusable(op.old, op.new):
            continue
        for old, new in zip(op.old, op.new, strict=True):
            note = f"{_codepoint(old)} → {_codepoint(new)}"
            if old != new and note not in found:
                found.append(note)
    return tuple(found[:_MAX_LOOKALIKES])


def hunk_text(hunk: Hunk, color: bool) -> str:
    """The label (and any look-alike letters), then the paragraph with the word
    diff: ANSI red/green when `color`, wdiff markers `[-old-]{+new+}` when plain."""
    body = "".join(_text_run(tag, text, color) for tag, text in display_runs(hunk))
    head = "\n".join([hunk_label(hunk), *(f"look-alike: {n}" for n in lookalikes(hunk))])
    if color:
        head = "\n".join(f"{_DIM}{line}{_RESET}" for line in head.split("\n"))
    return f"{head}\n{_indent(body)}"


def hunk_markdown(hunk: Hunk) -> str:
    """A label line, a blank line, then the paragraph with ~~old~~ **new**."""
    runs = display_runs(hunk)
    parts: list[str] = []
    for i, (tag, text) in enumerate(runs):
        parts.append(_markdown_run(tag, text))
        if tag == classify.DELETE and i + 1 < len(runs) and runs[i + 1][0] == classify.INSERT:
            parts.append(" ")  # between ~~old~~ and **new**, or markdown runs them together
    body = escape_line_starts("".join(parts))
    notes = "".join(f"  \nlook-alike: {escape_markdown(n)}" for n in lookalikes(hunk))
    return f"*{escape_markdown(hunk_label(hunk))}*{notes}\n\n{body}"


def hunk_html(hunk: Hunk, styled: bool = True) -> Markup:
    """A <div class="hunk"> with the label and the paragraph; changes in
    <del class="diff-del">/<ins class="diff-ins">, with inline styles when `styled`
    (mail clients drop <style>; the web app's policy refuses style attributes)."""
    body = Markup("").join(_html_run(tag, text, styled) for tag, text in display_runs(hunk))
    notes = Markup("").join(Markup("<br>look-alike: {}").format(n) for n in lookalikes(hunk))
    if not styled:
        return Markup(
            '<div class="hunk hunk-{kind}"><p class="hunk-where">{label}{notes}</p>'
            '<p class="hunk-text">{body}</p></div>'
        ).format(kind=hunk.kind, label=hunk_label(hunk), notes=notes, body=body)
    return Markup(
        '<div class="hunk hunk-{kind}">'
        '<p class="hunk-where" style="color:#59636e;font-size:.85rem;margin:0">{label}{notes}</p>'
        '<p class="hunk-text" style="white-space:pre-wrap;margin:.2rem 0 0">{body}</p>'
        "</div>"
    ).format(kind=hunk.kind, label=hunk_label(hunk), notes=notes, body=body)


def change_text(hunks: Iterable[Hunk], color: bool) -> str:
    return "\n\n".join(hunk_text(h, color) for h in hunks)


def change_markdown(hunks: Iterable[Hunk]) -> str:
    return "\n\n".join(hunk_markdown(h) for h in hunks)


def change_html(hunks: Iterable[Hunk], styled: bool = True) -> Markup:
    return Markup("\n").join(hunk_html(h, styled) for h in hunks)


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}"


def _text_run(tag: str, text: str, color: bool) -> str:
    if tag == classify.EQUAL:
        return text
    if color:
        return f"{_RED if tag == classify.DELETE else _GREEN}{text}{_RESET}"
    return f"[-{text}-]" if tag == classify.DELETE else f"{{+{text}+}}"


def _markdown_run(tag: str, text: str) -> str:
    if tag == classify.EQUAL:
        return escape_markdown_inline(text)
    mark = "~~" if tag == classify.DELETE else "**"
    return f"{mark}{escape_markdown_inline(text)}{mark}"


def _html_run(tag: str, text: str, styled: bool = True) -> Markup:
    if tag == classify.EQUAL:
        return Markup("{}").format(text)
    name, style = ("del", DEL_STYLE) if tag == classify.DELETE else ("ins", INS_STYLE)
    if not styled:
        return Markup('<{0} class="diff-{0}">{1}</{0}>').format(name, text)
    return Markup('<{0} class="diff-{0}" style="{1}">{2}</{0}>').format(name, style, text)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.split("\n"))
