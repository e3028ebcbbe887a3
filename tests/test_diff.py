"""Diff and classification: every real edit is found and named, noise is not."""



from __future__ import annotations

import dataclasses
import functools
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.classify import classify_edit
from monitor.diff import Change, Hunk, WordOp, apply_change, diff_documents, render_word_diff
from monitor.document import Document
from monitor.errors import MonitorError
from monitor.normalize import parse_capture
from monitor.replica.baseline import seed_path

SEED = seed_path()
CYRILLIC_A = "\u0430"


@pytest.fixture(scope="module")
def seed() -> Document:
    return parse_capture(SEED.read_text(encoding="utf-8"))


def edit(doc: Document, index: int, old: str, new: str) -> Document:
    assert old in doc.paragraphs[index], "the test edits text that is really there"
    paragraphs = list(doc.paragraphs)
    paragraphs[index] = paragraphs[index].replace(old, new)
    return dataclasses.replace(doc, paragraphs=tuple(paragraphs))


def only_hunk(change: Change) -> Hunk:
    assert len(change.hunks) == 1, change.hunks
    return change.hunks[0]


def test_whitespace_reflow_is_not_a_change(seed: Document) -> None:
    reflowed = SEED.read_text(encoding="utf-8").replace(" the ", "\u00a0the\n ").replace(
        ". ", ".  \t"
    ).replace("\n\n", "\n \n\u200b\n\n")
    again = parse_capture(reflowed)

    change = diff_documents(seed, again)
    assert change.is_empty
    assert change.significance == "none"
    assert change.summary() == "no change"
    assert again.content_hash == seed.content_hash


def test_identical_documents_have_no_change(seed: Document) -> None:
    assert diff_documents(seed, seed) == Change((), None, "2025-12-11")


def test_one_digit_is_a_number_change_high(seed: Document) -> None:
    change = diff_documents(seed, edit(seed, 0, "77th anniversary", "78th anniversary"))

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old_index, hunk.new_index) == ("number", 0, 0)
    assert [op for op in hunk.ops if op.tag != "equal"] == [WordOp("replace", "77th", "78th")]
    assert change.classes == ("number",)
    assert change.significance == "high"
    assert change.summary() == "1 number changed in paragraph 1"


def test_homoglyph_fix_is_confusable_low(seed: Document) -> None:
    fixed = edit(seed, 3, f"Khojim{CYRILLIC_A}tov", "Khojimatov")
    change = diff_documents(seed, fixed)

    hunk = only_hunk(change)
    assert hunk.kind == "confusable"
    assert [op for op in hunk.ops if op.tag != "equal"] == [
        WordOp("replace", f"Khojim{CYRILLIC_A}tov", "Khojimatov")
    ]
    assert change.significance == "low"
    assert diff_documents(fixed, seed).classes == ("confusable",)  # planting one, too


def test_curly_quotes_straightened_is_typography_low(seed: Document) -> None:
    straight = edit(seed, 0, "“Human", '"Human')
    straight = edit(straight, 0, "Standards”", 'Standards"')
    straight = edit(straight, 3, "country’s", "country's")
    change = diff_documents(seed, straight)

    assert [h.kind for h in change.hunks] == ["typography", "typography"]
    assert change.classes == ("typography",)
    assert change.significance == "low"


def test_dash_ellipsis_and_punctuation_spacing_are_typography(seed: Document) -> None:
    retyped = edit(seed, 6, "Ambassador-at-Large", "Ambassador–at–Large")
    retyped = edit(retyped, 1, "liberty, developing", "liberty , developing")
    retyped = edit(retyped, 5, "torture.", "torture…")
    change = diff_documents(seed, retyped)
    # '…' vs '.' is not an ellipsis fix: a full stop became an ellipsis.
    assert [h.kind for h in change.hunks] == ["typography", "wording", "typography"]


def test_sentence_reworded_is_wording_medium(seed: Document) -> None:
    reworded = edit(seed, 1, "discussed strategic and pressing", "addressed strategic and urgent")
    change = diff_documents(seed, reworded)

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old_index, hunk.new_index) == ("wording", 1, 1)
    assert change.significance == "medium"
    assert change.summary() == "2 wording edits in paragraph 2"


def test_sentence_initial_capital_is_not_a_name(seed: Document) -> None:
    change = diff_documents(seed, edit(seed, 2, "In his welcoming", "During his welcoming"))
    assert only_hunk(change).kind == "wording"
    assert change.significance == "medium"


def test_changed_name_is_wording_high(seed: Document) -> None:
    change = diff_documents(seed, edit(seed, 2, "Artur Lastayev", "Artur Lastaev"))
    assert only_hunk(change).kind == "wording"
    assert change.significance == "high"
    assert change.summary() == "1 wording edit touching a name in paragraph 3"


def test_deleted_institution_name_is_high(seed: Document) -> None:
    change = diff_documents(seed, edit(seed, 0, ", the Council of Europe", ""))
    assert only_hunk(change).kind == "wording"
    assert change.significance == "high"


def test_summary_leads_with_the_most_telling_edits(seed: Document) -> None:
    old = dataclasses.replace(seed, title="Day")
    new = edit(old, 0, "77th", "78th")
    new = edit(new, 2, "Kazakhstan continues", "Kazakhstan continues,")
    new = edit(new, 4, "Republic of Kazakhstan", "Republic of Kazakhstan 2")
    new = edit(new, 6, "144th session", "145th session")
    new = dataclasses.replace(new, title="Days", published="2025-12-10",
                              paragraphs=(*new.paragraphs, "Added.", "Also added."))
    assert diff_documents(old, new).summary() == (
        "title changed; date changed from 2025-12-11 to 2025-12-10; "
        "3 numbers changed in paragraphs 1, 5, 7; 1 wording edit in paragraph 3; "
        "2 paragraphs added"
    )


def test_paragraph_added(seed: Document) -> None:
    added = "The conference adopted a final resolution."
    new = dataclasses.replace(seed, paragraphs=(*seed.paragraphs[:2], added, *seed.paragraphs[2:]))
    change = diff_documents(seed, new)

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old_index, hunk.new_index) == ("paragraph_added", None, 2)
    assert hunk.new == added
    assert change.significance == "medium"
    assert change.summary() == "1 paragraph added"


def test_paragraph_removed(seed: Document) -> None:
    new = dataclasses.replace(seed, paragraphs=seed.paragraphs[:5] + seed.paragraphs[6:])
    change = diff_documents(seed, new)

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old_index, hunk.new_index) == ("paragraph_removed", 5, None)
    assert hunk.old == seed.paragraphs[5]
    assert change.significance == "high"


def test_paragraph_moved(seed: Document) -> None:
    new = dataclasses.replace(seed, paragraphs=seed.paragraphs[-1:] + seed.paragraphs[:-1])
    change = diff_documents(seed, new)

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old_index, hunk.new_index) == ("paragraph_moved", 7, 0)
    assert change.significance == "medium"
    assert change.summary() == "1 paragraph moved"


def test_edited_paragraph_is_paired_beside_an_inserted_one(seed: Document) -> None:
    edited = edit(seed, 1, "state bodies", "government bodies")
    paragraphs = (*edited.paragraphs[:1], "A new paragraph.", *edited.paragraphs[1:])
    change = diff_documents(seed, dataclasses.replace(seed, paragraphs=paragraphs))

    assert [(h.kind, h.old_index, h.new_index) for h in change.hunks] == [
        ("paragraph_added", None, 1), ("wording", 1, 2),
    ]
    assert change.summary() == "1 wording edit in paragraph 3; 1 paragraph added"


def test_homoglyph_in_a_one_word_paragraph_is_still_confusable() -> None:
    old = Document(None, None, ("Intro.", f"Khojim{CYRILLIC_A}tov", "End."))
    new = Document(None, None, ("Intro.", "Khojimatov", "End."))
    assert [h.kind for h in diff_documents(old, new).hunks] == ["confusable"]


def test_title_change_high(seed: Document) -> None:
    old = dataclasses.replace(seed, title="Human Rights Day")
    new = dataclasses.replace(seed, title="Human Rights Week")
    change = diff_documents(old, new)

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old, hunk.new) == ("title", "Human Rights Day", "Human Rights Week")
    assert change.significance == "high"
    assert change.summary() == "title changed"


def test_date_change_high(seed: Document) -> None:
    change = diff_documents(seed, dataclasses.replace(seed, published="2025-12-12"))

    hunk = only_hunk(change)
    assert (hunk.kind, hunk.old, hunk.new) == ("date", "2025-12-11", "2025-12-12")
    assert change.significance == "high"
    assert change.summary() == "date changed from 2025-12-11 to 2025-12-12"


def test_unknown_title_filled_in_is_no_change(seed: Document) -> None:
    titled = dataclasses.replace(seed, title="Human Rights Day")
    change = diff_documents(seed, titled)

    assert change.is_empty
    assert apply_change(seed, change) == titled


def test_unknown_date_filled_in_and_field_going_unknown_are_no_change(seed: Document) -> None:
    undated = dataclasses.replace(seed, published=None, title="T")
    assert diff_documents(undated, seed).is_empty  # date learned, title lost: neither an edit
    assert apply_change(undated, diff_documents(undated, seed)) == seed


def test_significance_is_the_highest_of_the_hunks(seed: Document) -> None:
    new = edit(seed, 3, f"Khojim{CYRILLIC_A}tov", "Khojimatov")
    new = dataclasses.replace(new, paragraphs=(*new.paragraphs, "Added."))
    change = diff_documents(seed, new)
    assert change.classes == ("confusable", "paragraph_added")
    assert change.significance == "medium"


def test_change_round_trips_through_dict(seed: Document) -> None:
    old = dataclasses.replace(seed, title="Human Rights Day")
    new = edit(old, 0, "77th", "78th")
    new = edit(new, 3, "country’s", "country's")
    new = dataclasses.replace(new, title="Human Rights Week", paragraphs=new.paragraphs[1:])
    change = diff_documents(old, new)

    stored = json.loads(json.dumps(change.to_dict()))
    back = Change.from_dict(stored)
    assert back == change
    assert back.summary() == change.summary()
    assert apply_change(old, back) == new


def test_malformed_stored_change_is_a_monitor_error() -> None:
    with pytest.raises(MonitorError):
        Change.from_dict({"hunks": [{"kind": "mystery"}]})
    with pytest.raises(MonitorError):
        Change.from_dict({"hunks": [{"kind": "rumour", "old_index": None, "new_index": 0,
                                     "old": "", "new": "x", "ops": [], "classes": []}]})


def test_change_does_not_apply_to_another_document(seed: Document) -> None:
    change = diff_documents(seed, edit(seed, 0, "77th", "78th"))
    other = edit(seed, 0, "77th", "76th")
    with pytest.raises(MonitorError):
        apply_change(other, change)


def test_render_word_diff_shows_deleted_and_inserted_words(seed: Document) -> None:
    hunk = only_hunk(diff_documents(seed, edit(seed, 0, "77th", "78th")))
    runs = render_word_diff(hunk)

    assert ("delete", "77th") in runs and ("insert", "78th") in runs
    assert "".join(t for tag, t in runs if tag != "insert") == seed.paragraphs[0]
    assert "".join(t for tag, t in runs if tag != "delete") == hunk.new


def test_render_word_diff_of_whole_paragraphs() -> None:
    old = Document(None, None, ("Kept.", "Gone.", "Moving."))
    new = Document(None, None, ("Moving.", "Kept.", "Fresh."))
    runs = {h.kind: render_word_diff(h) for h in diff_documents(old, new).hunks}
    assert runs == {
        "paragraph_moved": [("equal", "Moving.")],
        "paragraph_removed": [("delete", "Gone.")],
        "paragraph_added": [("insert", "Fresh.")],
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("—", "-", "typography"),
        ("«", "“", "typography"),
        ("…", "...", "typography"),
        (" ,", ",", "typography"),
        ("ab", "a b", "wording"),  # splitting a word is not spacing
        ("\u0406van", "Ivan", "confusable"),  # Cyrillic І, Latin I
        ("\u0251", "a", "wording"),  # Latin alpha is another Latin letter, not a look-alike
        ("0", "O", "number"),  # a digit turned letter is a number change
        ("2025", "2026", "number"),
        ("", "5 ", "number"),
        ("pressing", "urgent", "wording"),
    ],
)
def test_edit_classes(old: str, new: str, expected: str) -> None:
    assert classify_edit(old, new) == expected


# --- properties -------------------------------------------------------------

_WORDS = ["a", CYRILLIC_A, "o", "\u043e", "10", "11", "Ivan", "\u0406van", "“x”", '"x"',
          "—", "-", "b", "c.", "Day"]
_paragraphs = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join)
_bodies = st.lists(_paragraphs, max_size=7).map(tuple)
_known_documents = st.builds(
    Document, st.sampled_from(["Day", "Day 2", "D\u0430y"]),
    st.sampled_from(["2025-12-11", "2025-12-12"]), _bodies,
)
_any_documents = st.builds(
    Document, st.sampled_from([None, "Day", "Day 2"]),
    st.sampled_from([None, "2025-12-11", "2026-01-01"]), _bodies,
)


@st.composite
def _edited_from(draw: st.DrawFn, base: Document) -> Document:
    """A later version: paragraphs kept, dropped, edited, inserted or moved."""
    out: list[str] = []
    for paragraph in base.paragraphs:
        action = draw(st.sampled_from(["keep", "keep", "drop", "edit", "insert"]))
        if action == "edit":
            words = paragraph.split(" ")
            words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(_WORDS))
            out.append(" ".join(words))
        elif action != "drop":
            out.append(paragraph)
        if action == "insert":
            out.append(draw(_paragraphs))
    if len(out) > 1 and draw(st.booleans()):
        out.append(out.pop(draw(st.integers(0, len(out) - 2))))
    return Document(draw(st.sampled_from(["Day", "Day 2"])), base.published, tuple(out))


@st.composite
def _pairs(draw: st.DrawFn, documents: st.SearchStrategy[Document]) -> tuple[Document, Document]:
    a = draw(documents)
    b = draw(st.one_of(documents, _edited_from(a)))
    return a, b


@given(_pairs(_known_documents))
def test_diff_applied_to_old_gives_new(pair: tuple[Document, Document]) -> None:
    a, b = pair
    assert apply_change(a, diff_documents(a, b)) == b


@given(_pairs(_any_documents))
def test_diff_applied_gives_new_even_with_unknown_fields(pair: tuple[Document, Document]) -> None:
    a, b = pair
    assert apply_change(a, diff_documents(a, b)) == b


@given(_pairs(_any_documents))
def test_change_survives_json(pair: tuple[Document, Document]) -> None:
    change = diff_documents(*pair)
    assert Change.from_dict(json.loads(json.dumps(change.to_dict()))) == change


@given(_known_documents)
def test_a_document_has_no_change_from_itself(doc: Document) -> None:
    assert diff_documents(doc, doc).is_empty


@given(_pairs(_known_documents))
def test_word_ops_rebuild_both_paragraphs(pair: tuple[Document, Document]) -> None:
    for hunk in diff_documents(*pair).hunks:
        if hunk.ops:
            assert "".join(op.old for op in hunk.ops) == hunk.old
            assert "".join(op.new for op in hunk.ops) == hunk.new
            assert hunk.kind in hunk.classes


@functools.cache
def _vocabulary() -> list[str]:
    return sorted(set(re.findall(r"[a-z]+", SEED.read_text(encoding="utf-8"))))


def _long_paragraph(words: int, seed: int = 9) -> list[str]:
    """Words of the seed press release in a random order."""
    rng = random.Random(seed)
    return [rng.choice(_vocabulary()) for _ in range(words)]


def test_a_20000_word_paragraph_with_four_edits_is_four_word_edits() -> None:
    # SequenceMatcher(autojunk=False) took 143 s on such a paragraph; this must finish.
    words = _long_paragraph(20_000)
    edited = list(words)
    for at, word in ((7, "seven"), (6_000, "6001"), (13_000, "Zhambyl"), (19_990, "last")):
        edited[at] = word
    old = Document("T", None, (" ".join(words),))
    new = Document("T", None, (" ".join(edited),))
    change = diff_documents(old, new)
    [hunk] = change.hunks
    assert [(op.old, op.new) for op in hunk.ops if op.tag != "equal"] == [
        (words[7], "seven"), (words[6_000], "6001"), (words[13_000], "Zhambyl"),
        (words[19_990], "last")]
    assert apply_change(old, change) == new


def test_500_edited_paragraphs_are_500_edits_not_removals() -> None:
    rng = random.Random(5)
    paragraphs = [" ".join(_long_paragraph(rng.randint(8, 40), seed=i)) + "." for i in range(500)]
    edited = [p.replace(" ", " new ", 1) for p in paragraphs]
    old, new = Document("T", None, tuple(paragraphs)), Document("T", None, tuple(edited))
    change = diff_documents(old, new)
    assert [(h.old_index, h.new_index) for h in change.hunks] == [(i, i) for i in range(500)]
    assert {h.kind for h in change.hunks} == {"wording"}
    assert apply_change(old, change) == new


def test_a_middle_too_large_to_align_is_one_replaced_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor import align

    monkeypatch.setattr(align, "MAX_CELLS", 100)  # past it, no alignment is attempted
    words = _long_paragraph(400)
    edited = ["First", *words[1:200], "middle", *words[201:-1], "last."]
    old = Document("T", None, (" ".join(words),))
    new = Document("T", None, (" ".join(edited),))
    change = diff_documents(old, new)
    [hunk] = change.hunks
    assert [op.tag for op in hunk.ops] == ["replace"]
    assert apply_change(old, change) == new


@given(st.lists(st.integers(0, 5), max_size=40), st.lists(st.integers(0, 5), max_size=40))
def test_alignment_opcodes_turn_one_sequence_into_the_other(a: list[int], b: list[int]) -> None:
    from monitor import align

    rebuilt: list[int] = []
    for tag, i1, i2, j1, j2 in align.opcodes(a, b):
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
        rebuilt += b[j1:j2]
    assert rebuilt == b
    assert sum(i2 - i1 for tag, i1, i2, _, _ in align.opcodes(a, b) if tag == "equal") == (
        len(a) + len(b) - align.Indel.distance(a, b)) // 2  # a longest common subsequence
