"""What one load of a page shows of its noise, for the preview of a source not yet
added (monitor.preview).

Most noise is learned by comparing loads: a counter, a clock, a rotating banner or a
token reads the same in one load and only shows itself in the next (the first check
loads the page three times: monitor.sources.volatile). One load shows less, and this
says only that: the elements holding a relative time ("2 hours ago", masked by the
first check from any load), what each of the source's `ignore` entries removes, and
the blocks around the article (navigation, header, footer, side blocks, forms) whose
text the extracted document does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitor.document import Document
from monitor.normalize import normalize_text
from monitor.sources import masking
from monitor.sources.blocks import Element, parse_html, text_of
from monitor.sources.volatile import one_load_masks
from monitor.untrusted import one_line

# Blocks that frame an article rather than belong to it, by tag and by ARIA role.
FRAME_TAGS = ("header", "nav", "footer", "aside", "form")
FRAME_ROLES = frozenset({"banner", "navigation", "contentinfo", "complementary", "search"})
SHOWN_CHARS = 100  # of each block's text
MAX_BLOCKS = 12
_PROBE = 60  # characters of a block's text looked for in the document's text


@dataclass(frozen=True)
class Block:
    """An element of the page: a readable name for it (tag#id.class) and its text."""

    selector: str
    text: str


@dataclass(frozen=True)
class Ignored:
    entry: str  # the `ignore` entry as given
    elements: int  # how many elements of this load it removes (0 for a `regex:`)


@dataclass(frozen=True)
class OneLoad:
    relative_times: tuple[Block, ...]  # masked by the first check, from this load already
    ignored: tuple[Ignored, ...]
    left_out: tuple[Block, ...]  # around the article, not in the extracted text
    page_words: int  # words of the whole page's text, before extraction


def one_load(markup: str, ignore: Iterable[str], document: Document) -> OneLoad:
    root = parse_html(markup)
    relative = tuple(Block(selector, _text(masking.select(root, selector)))
                     for selector in one_load_masks(root))
    ignored = tuple(Ignored(entry, 0 if entry.startswith(masking.REGEX_PREFIX)
                            else len(masking.select_any(root, (entry,))))
                    for entry in ignore)
    body = next(root.iter("body"), root)
    return OneLoad(relative, ignored, _left_out(body, document),
                   len(normalize_text(text_of(body, " ")).split()))


def _left_out(body: Element, document: Document) -> tuple[Block, ...]:
    kept = " ".join((document.title or "", *document.paragraphs))
    found: list[Block] = []
    for element in body.iter():
        if len(found) >= MAX_BLOCKS:
            break
        if not _frames(element) or any(_frames(a) for a in element.iterancestors()):
            continue  # only the outermost frame of a nest is named
        text = normalize_text(text_of(element, " "))
        if text and text[:_PROBE] not in kept:
            found.append(Block(_name(element), one_line(text, SHOWN_CHARS)))
    return tuple(found)


def _frames(element: Element) -> bool:
    if not isinstance(element.tag, str):
        return False  # a comment or a processing instruction
    return element.tag in FRAME_TAGS or str(element.get("role") or "").strip() in FRAME_ROLES


def _name(element: Element) -> str:
    name = str(element.tag)
    if element_id := element.get("id"):
        name += f"#{element_id}"
    classes = str(element.get("class") or "").split()
    return name + "".join(f".{c}" for c in classes[:2])


def _text(elements: list[Element]) -> str:
    return one_line(normalize_text(text_of(elements[0], " ")), SHOWN_CHARS) if elements else ""
