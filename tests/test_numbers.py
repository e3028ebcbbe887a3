"""Numbers are whole tokens: in digits with their separators, and in words (ru, kk, en)."""

from __future__ import annotations

import pytest
from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st

from monitor.baseline import import_baseline, read_baseline
from monitor.catalog import register
from monitor.classify import NUMBER, classify_edit
from monitor.config import SourceConfig
from monitor.diff import Change, Hunk, WordOp, apply_change, diff_documents, render_word_diff
from monitor.document import Document
from monitor.normalize import parse_capture

SEED_META = REPO / "snapshots" / "govkz-mfa-2025-12-11-human-rights-penitentiary.en.toml"
NBSP, THIN, NARROW = "\u00a0", "\u2009", "\u202f"


def one_hunk(old: str, new: str) -> Hunk:
    change = diff_documents(Document("t", None, (old,)), Document("t", None, (new,)))
    assert len(change.hunks) == 1, change.hunks
    return change.hunks[0]


def marked(hunk: Hunk) -> str:
    """The word diff as a reader sees it: [-deleted-]{+inserted+}."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return "".join(marks[tag].format(text) for tag, text in render_word_diff(hunk))


def changed(hunk: Hunk) -> list[tuple[str, str]]:
    return [(op.old, op.new) for op in hunk.ops if op.tag != "equal"]


def test_a_changed_amount_with_comma_groups_is_one_token() -> None:
    hunk = one_hunk("Бюджет составит 1,250,000,000 тенге.", "Бюджет составит 1,520,000,000 тенге.")
    assert marked(hunk) == "Бюджет составит [-1,250,000,000-]{+1,520,000,000+} тенге."
    assert changed(hunk) == [("1,250,000,000", "1,520,000,000")]
    assert WordOp("replace", "1,250,000,000", "1,520,000,000") in hunk.ops
    assert hunk.kind == NUMBER and hunk.significance == "high"


def test_a_changed_decimal_comma_is_one_token() -> None:
    hunk = one_hunk("Инфляция 3,5 процента.", "Инфляция 2,5 процента.")
    assert marked(hunk) == "Инфляция [-3,5-]{+2,5+} процента."
    assert changed(hunk) == [("3,5", "2,5")]
    assert hunk.kind == NUMBER


@pytest.mark.parametrize("space", [" ", NBSP, THIN, NARROW],
                         ids=["space", "nbsp", "thin", "narrow"])
def test_space_grouped_numbers_are_one_token(space: str) -> None:
    old, new = f"1{space}250{space}000", f"1{space}520{space}000"
    hunk = one_hunk(f"Выделено {old} тенге.", f"Выделено {new} тенге.")
    assert marked(hunk) == f"Выделено [-{old}-]{{+{new}+}} тенге."
    assert hunk.kind == NUMBER


def test_a_list_of_numbers_is_not_merged_into_one() -> None:
    hunk = one_hunk("пункты 1, 2, 3 и 4", "пункты 1, 5, 3 и 4")
    assert marked(hunk) == "пункты 1, [-2-]{+5+}, 3 и 4"


def test_a_year_before_a_word_or_a_count_stays_its_own_token() -> None:
    assert marked(one_hunk("в 2025 году", "в 2026 году")) == "в [-2025-]{+2026+} году"
    assert marked(one_hunk("в 2025 100 человек", "в 2025 200 человек")) == (
        "в 2025 [-100-]{+200+} человек")


def test_a_date_in_points_is_one_token() -> None:
    hunk = one_hunk("Приказ от 11.12.2025 года", "Приказ от 12.12.2025 года")
    assert marked(hunk) == "Приказ от [-11.12.2025-]{+12.12.2025+} года"


def test_a_percent_sign_is_not_part_of_the_number() -> None:
    hunk = one_hunk("доля 12,5% рынка", "доля 13,5% рынка")
    assert marked(hunk) == "доля [-12,5-]{+13,5+}% рынка"


@pytest.mark.parametrize(("old", "new"), [
    ("в течение десяти календарных дней", "в течение двадцати календарных дней"),
    ("не позднее десяти дней", "не позднее тридцати дней"),
    ("штраф в размере ста расчетных показателей", "штраф в размере двухсот расчетных показателей"),
    ("свыше пяти тысяч человек", "свыше пяти миллионов человек"),
    ("вступает в силу с первого числа", "вступает в силу со второго числа"),
    ("он күн ішінде", "жиырма күн ішінде"),
    ("онға дейін", "жиырмаға дейін"),
    ("оннан астам", "жиырмадан астам"),
    ("үш жүз адам", "төрт жүз адам"),
    ("within ten days", "within twenty days"),
    ("the first reading", "the second reading"),
    ("two hundred people", "two thousand people"),
], ids=["ru-gen", "ru-30", "ru-100-200", "ru-scale", "ru-ordinal", "kk-10-20", "kk-dative",
        "kk-ablative", "kk-hundreds", "en", "en-ordinal", "en-scale"])
def test_a_number_in_words_is_a_number_change_high(old: str, new: str) -> None:
    hunk = one_hunk(old, new)
    assert hunk.kind == NUMBER and hunk.significance == "high"
    assert Change((hunk,)).summary() == "1 number changed in paragraph 1"


@pytest.mark.parametrize(("old", "new"), [
    ("сказал министр", "сказал министра"),
    ("в течение десяти дней", "в течение десятью дней"),  # a case ending, not a new number
    ("он сказал", "она сказала"),  # Russian «он» is "he", not Kazakh "ten"
    ("one of the ministers", "each of the ministers"),
    ("мемлекет үшін", "халық үшін"),  # үшін: "for", not a form of үш
], ids=["ru-word", "ru-case", "ru-he", "en-one-of", "kk-for"])
def test_a_word_that_is_not_a_number_change_is_not_a_number(old: str, new: str) -> None:
    assert one_hunk(old, new).kind != NUMBER


def test_an_ambiguous_number_word_is_a_number_next_to_a_sure_one() -> None:
    assert classify_edit("он", "жиырма") == NUMBER
    assert classify_edit("one", "two") == NUMBER
    assert classify_edit("one", "someone") != NUMBER


_NUMBERS = st.builds(
    lambda parts, sep: sep.join(parts),
    st.lists(st.from_regex(r"\d{1,4}", fullmatch=True), min_size=1, max_size=4),
    st.sampled_from([",", ".", " ", ", ", NBSP, THIN, NARROW, "%", " году "]),
)


@given(_NUMBERS, _NUMBERS)
def test_a_diff_over_numbers_rebuilds_the_new_text(old: str, new: str) -> None:
    before, after = Document("t", None, (old,)), Document("t", None, (new,))
    assert apply_change(before, diff_documents(before, after)) == after


def test_an_edited_amount_on_the_replica_is_stored_as_one_number_hunk(
    store, replica, checker
) -> None:
    url = replica.seed_baseline(article_id=1119829)
    register(store, SourceConfig(name="seed", url=url, kind="govkz", interval_seconds=60))
    assert import_baseline(store, "seed", read_baseline(SEED_META))
    paragraphs = list(parse_capture(SEED_META.with_suffix(".txt").read_text("utf-8")).paragraphs)
    paragraphs[5] += " The programme is funded with 1,250,000,000 tenge."
    replica.edit_article(1119829, "en", paragraphs=paragraphs)
    assert checker.check("seed").outcome in ("captured", "changed")
    paragraphs[5] = paragraphs[5].replace("1,250,000,000", "1,520,000,000")
    replica.edit_article(1119829, "en", paragraphs=paragraphs)
    assert checker.check("seed").outcome == "changed"
    stored = [e.data["change"] for e in store.read_stream("seed") if e.type == "ChangeDetected"]
    [hunk] = Change.from_dict(stored[-1]).hunks
    assert hunk.kind == NUMBER and hunk.significance == "high" and hunk.old_index == 5
    assert ["replace", "1,250,000,000", "1,520,000,000"] in stored[-1]["hunks"][0]["ops"]
    assert marked(hunk).count("[-") == 1 and "[-1,250,000,000-]{+1,520,000,000+}" in marked(hunk)
