"""Is this page an empty JavaScript application? (issue 15, item 4)

A page built in the browser (React, Vue, Angular, Next.js, Nuxt, Svelte, Flutter…)
sends an HTML "shell": a mount element its scripts fill — `<div id="root"></div>`,
`<app-root></app-root>` — the scripts, often a `<noscript>` asking for JavaScript,
and no text. A plain fetch of one reads nothing (trafilatura finds no main content)
or only its loader ("Loading…"); a browser reads it (`render = true`). `app_shell`
tells one from the parsed page, so that `monitor add` can say so instead of "no text".

What makes a shell, all of it at once:
- at least one script that runs (a `<script>` with no type or a JavaScript or module
  type; JSON and templates in `<script>` tags are data, not programs);
- at most SHELL_TEXT characters of text outside scripts, styles, templates and
  `<noscript>`: room for a loader's word, not for a sentence of an article;
- at most NOSCRIPT_TEXT characters in `<noscript>`: a message asking for
  JavaScript, not a page. libxml2 does not read `<noscript>` as raw text, so a
  `<noscript>` left open swallows the whole page that follows it (one page in the
  990 real pages of trafilatura's evaluation data does that), and that page is no shell;
- an empty mount element (MOUNT_IDS, or a custom element such as `<app-root>`: one
  whose text, if any, is a loader, with no paragraph, heading, list or table in it),
  or no text at all (Flutter's page is its scripts and nothing else).

A page whose text is merely short is no shell: its few words are in a paragraph or
a heading, or it has no empty mount element. Measured: on those 990 real pages none
is taken for a shell (the shortest text outside `<noscript>` is 476 characters, beside
the one swallowed page); nor is any page of the gov.kz replica or the shipped texts but
the portal's article shell, which is one (tests/test_shell.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.content import UndecodableText, decode
from monitor.sources.blocks import Element, element_paragraphs, parse_html, text_of
from monitor.untrusted import one_line

SHELL_TEXT = 40  # characters: "Loading, please wait…" (21), "Загрузка приложения…" (20)
NOSCRIPT_TEXT = 500  # characters: Vue CLI's message is 110, CRA's 46
# The ids frameworks and their templates mount the application on.
MOUNT_IDS = frozenset({"root", "app", "__next", "__nuxt", "___gatsby", "svelte", "q-app",
                       "react-root", "app-root", "main-app", "application"})
# Elements a loader does not hold and a server-rendered page does.
_CONTENT_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "article", "blockquote")
# <script type=…> values that are programs; anything else (JSON, templates) is data.
_PROGRAM_TYPES = frozenset({"", "module", "text/javascript", "application/javascript",
                            "application/ecmascript", "text/ecmascript", "text/jsx",
                            "text/babel"})
_SNIFFED = 1024  # bytes: a page's markup starts within its first kilobyte
_SHOWN_TAG = 40  # characters of a custom element's name, which the page chose


@dataclass(frozen=True)
class Shell:
    """What showed that a page is a JavaScript application's empty shell."""

    mounts: tuple[str, ...]  # the empty mount elements, as `<div id="root">`
    scripts: int  # scripts that run
    text: str  # the page's text outside <noscript> ("" or a loader's words)

    def said(self) -> str:
        """'an empty <div id="root"> and 3 scripts, no text'."""
        if not self.mounts:
            where = "an empty body"
        else:
            more = len(self.mounts) - 1
            where = f"an empty {self.mounts[0]}" + (f" (and {more} more)" if more else "")
        scripts = "1 script" if self.scripts == 1 else f"{self.scripts} scripts"
        text = f'only "{one_line(self.text, SHELL_TEXT)}" as text' if self.text else "no text"
        return f"{where} and {scripts}, {text}"


def page_shell(body: bytes) -> Shell | None:
    """`app_shell` of an answer's body; None for one that is not markup (JSON, PDF)."""
    if not body[:_SNIFFED].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None
    try:
        markup = decode(body, None)
    except UndecodableText:
        return None
    return app_shell(parse_html(markup))


def app_shell(root: Element) -> Shell | None:
    """The signs that the page `root` is an empty JavaScript application; None when it
    is not one (see the module's docstring for the rule)."""
    body = root.find("body")
    if body is None:
        return None
    scripts = sum(1 for script in root.iter("script") if _runs(script))
    if not scripts:
        return None
    text = " ".join(element_paragraphs(body))  # <noscript>, <script>, <template> left out
    if len(text) > SHELL_TEXT:
        return None
    noscript = " ".join(text_of(element, " ") for element in body.iter("noscript"))
    if len(" ".join(noscript.split())) > NOSCRIPT_TEXT:
        return None
    mounts = tuple(_named(element) for element in body.iter() if _is_empty_mount(element))
    if not mounts and text:
        return None
    return Shell(mounts=mounts, scripts=scripts, text=text)


def _runs(script: Element) -> bool:
    kind = (script.get("type") or "").split(";")[0].strip().lower()
    return kind in _PROGRAM_TYPES and bool(script.get("src") or (script.text or "").strip())


def _is_empty_mount(element: Element) -> bool:
    if not isinstance(element.tag, str):  # a comment
        return False
    if element.get("id") not in MOUNT_IDS and "-" not in element.tag:
        return False
    return next(element.iter(*_CONTENT_TAGS), None) is None


def _named(element: Element) -> str:
    if element.get("id") in MOUNT_IDS:
        return f'<{one_line(element.tag, _SHOWN_TAG)} id="{element.get("id")}">'
    return f"<{one_line(element.tag, _SHOWN_TAG)}>"
