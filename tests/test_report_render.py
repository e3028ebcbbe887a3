"""The shared renderers of one hunk (monitor.report.render): pure, data in, text out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from monitor import classify
from monitor.diff import Hunk, diff_documents
from monitor.document import Document
from monitor.report.render import (
    CSS,
    display_runs,
    escape_markdown,
    hunk_html,
    hunk_label,
    hunk_markdown,
    hunk_text,
    link_url,
    lookalikes,
)

SGR = re.compile(r"\x1b\[[0-9;]*m")


def edited(old: str, new: str) -> Hunk:
    """The one hunk of a one-paragraph document edited from `old` to `new`."""
    (hunk,) = diff_documents(Document(None, None, (old,)), Document(None, None, (new,))).hunks
    return hunk


def hunks(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[Hunk, ...]:
    return diff_documents(Document(None, None, old), Document(None, None, new)).hunks


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_plain_text_marks_deleted_and_inserted_words() -> None:
    text = hunk_text(edited("The budget is 100 tenge.", "The budget is 200 tenge."), color=False)
    assert text == "paragraph 1 · number · high\n    The budget is [-100-]{+200+} tenge."


def test_coloured_text_uses_red_and_green_without_markers() -> None:
    text = hunk_text(edited("The budget is 100 tenge.", "The budget is 200 tenge."), color=True)
    assert "\x1b[31m100\x1b[0m\x1b[32m200\x1b[0m" in text
    assert "[-" not in text and "{+" not in text


def test_markdown_strikes_old_and_bolds_new() -> None:
    markdown = hunk_markdown(edited("The budget is 100 tenge.", "The budget is 200 tenge."))
    assert markdown == "*paragraph 1 · number · high*\n\nThe budget is ~~100~~ **200** tenge."


def test_markdown_keeps_spaces_outside_the_markers() -> None:
    markdown = hunk_markdown(edited("They met today.", "They met in Astana today."))
    assert "They met **in Astana** today." in markdown


def test_markdown_makes_page_syntax_literal() -> None:
    markdown = hunk_markdown(edited("1. See *this* <b>x</b> [a](b)",
                                    "1. See *that* <b>x</b> [a](b)"))
    body = markdown.split("\n\n", 1)[1]
    assert body.startswith("1\\. See \\*")
    assert "\\<b\\>x\\</b\\>" in body and "\\[a\\](b)" in body
    assert "~~this~~ **that**" in body


def test_html_escapes_page_text_and_marks_changes() -> None:
    hunk = edited("Say <script>alert(1)</script> & 5", "Say <script>alert(2)</script> & 5")
    html = str(hunk_html(hunk))
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html and "&amp; 5" in html
    assert '<del class="diff-del" style="' in html and '<ins class="diff-ins" style="' in html
    assert "line-through" in html  # inline, for mail clients that drop <style>


def test_css_styles_the_diff_classes() -> None:
    assert "del.diff-del{" in CSS and "ins.diff-ins{" in CSS


def test_labels_number_paragraphs_from_one() -> None:
    old = ("Alpha one two three.", "Beta four five six.", "Gamma seven eight nine.")
    moved = hunks(old, ("Beta four five six.", "Gamma seven eight nine.", "Alpha one two three."))
    assert [hunk_label(h) for h in moved] == ["paragraph 1 → 3 · paragraph moved · medium"]
    removed = hunks(old, old[:2])
    assert hunk_label(removed[0]) == (
        "paragraph 3 of the previous version · paragraph removed · high")
    added = hunks(old, (*old, "Delta ten."))
    assert hunk_label(added[0]) == "paragraph 4 · paragraph added · medium"
    assert hunk_text(added[0], color=False).endswith("{+Delta ten.+}")
    assert hunk_markdown(removed[0]).endswith("~~Gamma seven eight nine.~~")


def test_title_change_is_labelled_title() -> None:
    change = diff_documents(Document("Old title", None, ("x",)),
                            Document("New title", None, ("x",)))
    assert hunk_label(change.hunks[0]).startswith("title · ")


def test_a_changed_space_is_visible() -> None:
    hunk = edited("Astana , Kazakhstan", "Astana, Kazakhstan")
    assert hunk_text(hunk, color=False).endswith("Astana[-␣,-]{+,+} Kazakhstan")
    assert hunk_markdown(hunk).endswith("Astana~~␣,~~ **,** Kazakhstan")
    assert "␣," in str(hunk_html(hunk))


def test_homoglyph_swap_names_both_letters() -> None:
    hunk = edited("Said Khojimatov today.", "Said Khojim\u0430tov today.")
    assert lookalikes(hunk) == ("U+0061 LATIN SMALL LETTER A → U+0430 CYRILLIC SMALL LETTER A",)
    assert "look-alike: U+0061 LATIN SMALL LETTER A" in hunk_text(hunk, color=False)
    assert "look-alike: U+0061" in str(hunk_html(hunk))


def test_terminal_escapes_in_a_page_cannot_reach_the_terminal() -> None:
    hunk = edited("Title \x1b]0;pwned\x07 here", "Title \x1b[2J here now")
    assert "\x1b" not in hunk_text(hunk, color=False)
    assert "\x1b" not in SGR.sub("", hunk_text(hunk, color=True))
    assert "\x1b" not in hunk_markdown(hunk) and "\x1b" not in str(hunk_html(hunk))


def test_only_web_urls_become_links() -> None:
    assert link_url("https://www.gov.kz/a?b=1&c=2") == "https://www.gov.kz/a?b=1&c=2"
    for url in ("javascript:alert(1)", "data:text/html,x", "https://a b", 'https://a"><x'):
        assert link_url(url) is None


def test_escape_markdown_keeps_plain_words() -> None:
    assert escape_markdown("Ministry of Foreign Affairs") == "Ministry of Foreign Affairs"


_SYMBOLS = str.maketrans("", "", "␣⍽↵⇥")


def _letters(text: str) -> str:
    return "".join(text.translate(_SYMBOLS).split())


_PAGE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60,
).filter(lambda s: s.strip() != "")


@given(_PAGE_TEXT, _PAGE_TEXT)
def test_html_of_any_page_text_has_only_the_renderers_tags(old: str, new: str) -> None:
    for hunk in hunks((old,), (new,)):
        parsed = parse(str(hunk_html(hunk)))
        assert parsed.tags <= {"div", "p", "del", "ins", "br"}


@given(_PAGE_TEXT, _PAGE_TEXT)
def test_text_of_any_page_text_has_no_control_characters(old: str, new: str) -> None:
    for hunk in hunks((old,), (new,)):
        plain = hunk_text(hunk, color=False)
        coloured = SGR.sub("", hunk_text(hunk, color=True))
        for rendered in (plain, coloured):
            assert not [c for c in rendered if ord(c) < 32 and c not in "\n\t"]
            assert "\x7f" not in rendered


@given(st.lists(st.sampled_from(["the", "a", "100", "200", ",", " ", "  ", ".", "Astana", "\n"]),
                max_size=12).map("".join),
       st.lists(st.sampled_from(["the", "a", "100", "200", ",", " ", ".", "Astana", "\n"]),
                max_size=12).map("".join))
def test_display_runs_lose_and_invent_nothing_but_whitespace(old: str, new: str) -> None:
    for hunk in hunks((old,), (new,)) if old.strip() and new.strip() else ():
        runs = display_runs(hunk)
        before = "".join(t for tag, t in runs if tag != classify.INSERT)
        after = "".join(t for tag, t in runs if tag != classify.DELETE)
        assert _letters(before) == _letters(hunk.old)
        assert _letters(after) == _letters(hunk.new)
