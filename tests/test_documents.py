"""PDF and DOCX documents watched as sources: real files, served on 127.0.0.1, checked
end to end. An edited sentence is one hunk; re-pagination is no change; the file is
kept as evidence; a file that cannot be read fails with a reason, never a traceback."""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from documents import make_docx, make_pdf, make_scanned_pdf, varied_clauses
from http_faults import Reply, conditional
from hypothesis import given
from hypothesis import strategies as st

from monitor.catalog import guess_kind, register
from monitor.config import SourceConfig
from monitor.diff import Change
from monitor.errors import FetchFailed
from monitor.sources import docx_file, pdf_file
from monitor.sources.pdflayout import Line, Page, is_page_number, reflow
from monitor.store.snapshots import get_blob

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

DECREE = [
    "1. Утвердить прилагаемые Правила государственной регистрации нормативных правовых "
    "актов Республики Казахстан.",
    "2. Департаменту юстиции в установленном законодательством порядке обеспечить "
    "государственную регистрацию настоящего приказа и его размещение на интернет-ресурсе "
    "Министерства юстиции Республики Казахстан.",
    "3. Финансирование мероприятий составляет 1 250 000 000 тенге и осуществляется за счёт "
    "средств республиканского бюджета.",
    "4. Контроль за исполнением настоящего приказа возлагается на курирующего вице-министра "
    "юстиции Республики Казахстан.",
    "5. Настоящий приказ вводится в действие по истечении десяти календарных дней после дня "
    "его первого официального опубликования.",
]


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are served on 127.0.0.1, which a private-network policy would refuse."""
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "1")



def _add(store, name: str, url: str, kind: str | None = None) -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name=name, url=url, kind=kind or guess_kind(url),
                                 interval_seconds=60))


def _types(store, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.type for e in store.read_stream(name)]


def _changes(store, name: str) -> list[Change]:  # type: ignore[no-untyped-def]
    return [Change.from_dict(e.data["change"]) for e in store.read_stream(name)
            if e.type == "ChangeDetected"]


def _captures(store, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.data for e in store.read_stream(name) if e.type == "VersionCaptured"]


def _failures(store, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.data for e in store.read_stream(name) if e.type == "FetchFailed"]


def _stored(store, sha256: str) -> bytes:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return get_blob(conn, sha256)


# --- end to end --------------------------------------------------------------------

def test_pdf_source_records_an_edited_number_as_one_hunk_and_keeps_the_file(
    store, checker, server
) -> None:
    edited = [*DECREE]
    edited[2] = edited[2].replace("1 250 000 000", "1 520 000 000")
    before = make_pdf(DECREE, title="Приказ № 123", header="Әділет: приказ № 123")
    after = make_pdf(edited, title="Приказ № 123", header="Әділет: приказ № 123")
    server.route("/docs/order-123.pdf", Reply.page(before, PDF_TYPE),
                 Reply.page(after, PDF_TYPE))
    _add(store, "order", server.url("/docs/order-123.pdf"))

    assert checker.check("order").outcome == "captured"
    first = store.read_stream("order")[-1].data
    assert first["title"] == "Приказ № 123"
    assert checker.check("order").outcome == "changed"
    [change] = _changes(store, "order")
    [hunk] = change.hunks
    assert hunk.kind == "number" and hunk.old_index == 3  # after the header of a lone page
    assert hunk.new == edited[2] and hunk.old == DECREE[2]
    last = _captures(store, "order")[-1]
    assert last["content_type"] == PDF_TYPE
    assert last["raw_hash"] == hashlib.sha256(after).hexdigest()
    assert _stored(store, last["raw_hash"]) == after

    recorded = len(store.read_stream("order"))
    assert checker.check("order").outcome == "unchanged"
    assert len(store.read_stream("order")) == recorded


def test_docx_source_records_an_edited_word_as_one_hunk_and_keeps_the_file(
    store, checker, server
) -> None:
    table = [["Показатель", "2025", "2026"], ["Бюджет, тенге", "1 250 000", "1 300 000"]]
    edited = [*DECREE]
    edited[4] = edited[4].replace("десяти", "двадцати")
    before = make_docx(DECREE, heading="Об утверждении Правил регистрации", table=table)
    after = make_docx(edited, heading="Об утверждении Правил регистрации", table=table)
    server.route("/download/42", Reply.page(before, DOCX_TYPE), Reply.page(after, DOCX_TYPE))
    _add(store, "rules", server.url("/download/42"), kind="docx")

    assert checker.check("rules").outcome == "captured"
    assert checker.check("rules").outcome == "changed"
    [change] = _changes(store, "rules")
    [hunk] = change.hunks
    assert hunk.old_index == 4 and hunk.new == edited[4]
    assert [(op.old, op.new) for op in hunk.ops if op.tag != "equal"] == [("десяти", "двадцати")]
    last = _captures(store, "rules")[-1]
    assert last["title"] == "Об утверждении Правил регистрации"
    assert last["content_type"] == DOCX_TYPE
    assert _stored(store, last["raw_hash"]) == after
    assert hashlib.sha256(after).hexdigest() == last["raw_hash"]

    recorded = len(store.read_stream("rules"))
    assert checker.check("rules").outcome == "unchanged"
    assert len(store.read_stream("rules")) == recorded


def test_repaginated_pdf_with_a_paragraph_across_a_page_break_is_no_change(
    store, checker, server
) -> None:
    # Clauses of twenty lines: wherever a page ends, it ends inside one.
    long_decree = [f"{n}. " + " ".join([DECREE[n % len(DECREE)][3:]] * 6)
                   for n in range(1, 7)]
    tall = make_pdf(long_decree, footer="Страница {page}", header="Приказ № 7")
    short = make_pdf(long_decree, footer="- {page} -", header="Приказ № 7", page_height=600)
    for pdf in (tall, short):
        assert _a_paragraph_flows_across_a_page_break(pdf)
        assert list(pdf_file.pdf_document(pdf, "test").paragraphs) == long_decree
    server.route("/order-7.pdf", Reply.page(tall, PDF_TYPE), Reply.page(short, PDF_TYPE))
    _add(store, "order7", server.url("/order-7.pdf"))

    assert checker.check("order7").outcome == "captured"
    assert checker.check("order7").outcome == "unchanged"
    assert "ChangeDetected" not in _types(store, "order7")


@pytest.mark.parametrize("layout", [
    {"first_indent": 28, "space_after": 0},  # the decree's usual: indented, no space
    {"first_indent": 0, "space_after": 6},  # Word's usual: space after a paragraph
    {"first_indent": 0, "space_after": 0},  # neither: a short last line ends it
    {"first_indent": 36, "space_after": 0, "font_size": 14, "leading": 21},  # 1.5 spacing
    {"first_indent": 28, "space_after": 0, "leading": 11},  # set solid
], ids=["indent", "space", "neither", "one-and-a-half", "solid"])
def test_justified_layouts_read_back_as_their_paragraphs_at_any_page_height(layout) -> None:
    clauses = [*varied_clauses(24, seed=5), "Министр юстиции А. Иванов"]
    for height in (842, 450):
        pdf = make_pdf(clauses, footer="{page}", **layout, page_height=height)
        assert list(pdf_file.pdf_document(pdf, "test").paragraphs) == clauses


def test_unchanged_file_is_not_parsed_again_and_a_304_is_honoured(
    store, checker, server, monkeypatch
) -> None:
    parsed: list[str] = []

    def counting(content: bytes, url: str):  # type: ignore[no-untyped-def]
        parsed.append(url)
        return pdf_file.pdf_document(content, url)

    monkeypatch.setattr(pdf_file, "PDF", replace(pdf_file.PDF, extract=counting))
    pdf = make_pdf(DECREE)
    server.route("/same.pdf", Reply.page(pdf, PDF_TYPE))
    server.route("/tagged.pdf", conditional('"v1"', Reply.page(pdf, PDF_TYPE)))
    _add(store, "same", server.url("/same.pdf"))
    _add(store, "tagged", server.url("/tagged.pdf"))

    for name in ("same", "tagged"):
        assert [checker.check(name).outcome for _ in range(3)] == [
            "captured", "unchanged", "unchanged"]
        assert _types(store, name) == ["SourceRegistered", "VersionCaptured"]
    assert len(parsed) == 2  # one parse per source: its first capture
    assert [hit.header("If-None-Match") for hit in server.hits("/tagged.pdf")] == [
        None, '"v1"', '"v1"']


def test_corrupt_pdf_fails_as_parse_with_a_reason(store, checker, server) -> None:
    pdf = make_pdf(DECREE)
    server.route("/broken.pdf", Reply.page(pdf[: len(pdf) // 3], PDF_TYPE))
    server.route("/page.pdf", Reply.page(b"<html>Please log in</html>" * 10, PDF_TYPE))
    _add(store, "broken", server.url("/broken.pdf"))
    _add(store, "notpdf", server.url("/page.pdf"))

    for name, said in (("broken", "the PDF cannot be read"), ("notpdf", "not a PDF file")):
        result = checker.check(name)
        assert result.outcome == "failed" and result.detail.startswith("parse: ")
        [failure] = _failures(store, name)
        assert failure["kind"] == "parse" and said in failure["message"]
        assert "Traceback" not in failure["message"] and "\n" not in failure["message"]


def test_encrypted_pdf_fails_as_parse_saying_so(store, checker, server) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, encrypt=StandardEncryption("secret", canPrint=0))
    canvas.drawString(72, 700, "Confidential order")
    canvas.save()
    server.route("/locked.pdf", Reply.page(out.getvalue(), PDF_TYPE))
    _add(store, "locked", server.url("/locked.pdf"))

    assert checker.check("locked").outcome == "failed"
    [failure] = _failures(store, "locked")
    assert failure["kind"] == "parse" and "encrypted" in failure["message"]


def test_scanned_pdf_fails_as_empty_saying_it_has_no_text_layer(store, checker, server) -> None:
    server.route("/scan.pdf", Reply.page(make_scanned_pdf(), PDF_TYPE))
    _add(store, "scan", server.url("/scan.pdf"))

    assert checker.check("scan").outcome == "failed"
    [failure] = _failures(store, "scan")
    assert failure["kind"] == "empty"
    assert "no text layer" in failure["message"] and "OCR" in failure["message"]


def test_pdf_source_answered_with_a_web_page_fails_as_content_type(
    store, checker, server
) -> None:
    server.route("/moved.pdf", Reply.page("<html><body>Document moved</body></html>"))
    _add(store, "moved", server.url("/moved.pdf"))

    assert checker.check("moved").outcome == "failed"
    [failure] = _failures(store, "moved")
    assert failure["kind"] == "content_type" and "application/pdf" in failure["message"]


def test_untyped_docx_is_read_by_its_bytes(store, checker, server) -> None:
    server.route("/file", Reply(200, make_docx(DECREE[:2]), {}))
    _add(store, "untyped", server.url("/file"), kind="docx")

    assert checker.check("untyped").outcome == "captured"
    assert _captures(store, "untyped")[0]["content_type"] == ""


# --- what is read from a file ------------------------------------------------------

def test_docx_tables_are_rows_in_document_order_and_tracked_insertions_are_read() -> None:
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    document.core_properties.title = "Приказ № 5"
    document.add_paragraph("Перед таблицей.")
    grid = document.add_table(rows=2, cols=2)
    for r, row in enumerate([["Срок", "Сумма"], ["10 дней", "1 250 000"]]):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    after = document.add_paragraph("Срок ")
    after._p.append(parse_xml(
        '<w:ins xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'w:id="1" w:author="editor"><w:r><w:t>продлён</w:t></w:r></w:ins>'))
    out = io.BytesIO()
    document.save(out)

    read = docx_file.docx_document(out.getvalue(), "test")
    assert read.title == "Приказ № 5"
    assert read.paragraphs == ("Перед таблицей.", "Срок | Сумма", "10 дней | 1 250 000",
                               "Срок продлён")


def test_docx_that_is_empty_not_a_package_or_unpacks_too_large_fails_clearly(
    monkeypatch,
) -> None:
    with pytest.raises(FetchFailed) as empty:
        docx_file.docx_document(make_docx([]), "http://x/a.docx")
    assert empty.value.kind == "empty" and "has no text" in str(empty.value)

    with pytest.raises(FetchFailed) as broken:
        docx_file.docx_document(b"PK\x03\x04" + b"\x00" * 200, "http://x/a.docx")
    assert broken.value.kind == "parse" and "not a valid zip package" in str(broken.value)

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("word/document.xml", b"<a/>" + b" " * 5000)
    monkeypatch.setattr(docx_file, "MAX_UNPACKED", 4096)
    with pytest.raises(FetchFailed) as large:
        docx_file.docx_document(packed.getvalue(), "http://x/a.docx")
    assert large.value.kind == "too_large"


def test_pdf_title_is_the_metadata_title_else_the_heading() -> None:
    titled = pdf_file.pdf_document(make_pdf(DECREE[:2], title="Приказ № 9",
                                            heading="О регистрации"), "test")
    assert titled.title == "Приказ № 9"
    assert titled.paragraphs[0] == "О регистрации"  # not the title: it stays body
    untitled = pdf_file.pdf_document(make_pdf(DECREE[:2], heading="О регистрации"), "test")
    assert untitled.title == "О регистрации"
    assert untitled.paragraphs == tuple(DECREE[:2])


def _line(text: str, y: float, box: int, x0: float = 72.0, x1: float = 520.0) -> Line:
    return Line(text, x0, x1, y, y + 10, 11.0, box)


def test_words_hyphenated_at_a_line_end_are_joined_and_compounds_keep_their_hyphen() -> None:
    page = Page((
        _line("Вице-министр обеспечивает опубли-", 700, 0),
        _line("кование приказа, а курирующий вице-", 686, 0),
        _line("министр и город Нур-", 672, 0),
        _line("Султан — контроль.", 658, 0, x1=200),
    ))
    [paragraph] = reflow([page])
    assert paragraph.text == ("Вице-министр обеспечивает опубликование приказа, а курирующий "
                              "вице-министр и город Нур-Султан — контроль.")


@pytest.mark.parametrize("text,expected", [
    ("3", True), ("- 3 -", True), ("Страница 3 из 7", True), ("3-бет", True),
    ("Page 3 of 7", True), ("3 / 7", True),
    ("3. Утвердить правила.", False), ("2026 год", False), ("Приказ", False),
])
def test_page_numbers_are_recognised_in_ru_kk_and_en(text: str, expected: bool) -> None:
    assert is_page_number(text) is expected


_LETTERS = "абвгдежзийклмнопрстуфхцчшыэюяәғқңөұүһі"
# Paragraphs of two lines or more: a text of one-line paragraphs alone, each indented,
# shows no margin to read them by.
_PARAGRAPHS = st.lists(st.lists(st.text(alphabet=_LETTERS, min_size=3, max_size=12),
                                min_size=20, max_size=60), min_size=1, max_size=10)


def _typeset(paragraphs: list[list[str]]) -> list[Line]:
    """Justified lines of 6-point letters, at most 70 letters, first lines indented."""
    lines: list[Line] = []
    for words in paragraphs:
        rows: list[list[str]] = [[]]
        for word in words:
            if rows[-1] and len(" ".join([*rows[-1], word])) > 70:
                rows.append([])
            rows[-1].append(word)
        for number, row in enumerate(rows):
            text = " ".join(row)
            x0 = 96.0 if number == 0 else 72.0
            last = number == len(rows) - 1
            x1 = min(x0 + 6 * len(text), 500.0) if last else 520.0
            lines.append(Line(text, x0, x1, 0.0, 10.0, 10.0, 0))
    return lines


def _paginate(lines: list[Line], breaks: set[int]) -> list[Page]:
    """The lines set 14 points apart, a new page after each index in `breaks` and
    when a page is full (44 lines), and a page number at every page's foot."""
    pages: list[Page] = []
    page: list[Line] = []
    for index, line in enumerate(lines):
        y = 700.0 - 14 * len(page)
        page.append(replace(line, y0=y, y1=y + 10))
        if index + 1 in breaks or len(page) == 44 or index == len(lines) - 1:
            number = Line(str(len(pages) + 1), 290.0, 296.0, 30.0, 40.0, 9.0, 1)
            pages.append(Page((*page, number)))
            page = []
    return pages


@given(_PARAGRAPHS, st.sets(st.integers(min_value=1, max_value=60), max_size=6))
def test_where_pages_break_never_changes_the_paragraphs(paragraphs, breaks) -> None:
    lines = _typeset(paragraphs)
    expected = [" ".join(words) for words in paragraphs]
    assert [p.text for p in reflow(_paginate(lines, breaks))] == expected


def test_a_number_ending_a_clause_atop_a_page_is_text_not_a_page_number() -> None:
    first = Page((_line("1. Выделить на мероприятия сумму в размере 1 250", 700, 0),
                  _line("по тексту приказа и далее в размере 1 250 000", 686, 0),
                  _line("и ещё столько же, итого 2 500 000 тенге и 500", 672, 0),
                  _line("1", 30, 1, x0=290, x1=296)))
    second = Page((_line("000.", 700, 0, x1=100),
                   _line("2. Контроль возложить на вице-министра.", 686, 1, x1=300),
                   _line("2", 30, 2, x0=290, x1=296)))
    assert [p.text for p in reflow([first, second])] == [
        "1. Выделить на мероприятия сумму в размере 1 250 по тексту приказа и далее в "
        "размере 1 250 000 и ещё столько же, итого 2 500 000 тенге и 500 000.",
        "2. Контроль возложить на вице-министра."]


def test_a_body_line_that_looks_like_a_running_foot_is_kept() -> None:
    pages = [Page((_line(f"{n}. Пункт о сумме {n}00 тенге,", 114, 0),
                   _line("выплачиваемой в конце", 100, 0),
                   _line(f"{n} квартала.", 86, 0, x1=300),
                   _line(f"{n}", 30, 1))) for n in (1, 2, 3)]
    texts = [p.text for p in reflow(pages)]
    assert texts == [f"{n}. Пункт о сумме {n}00 тенге, выплачиваемой в конце {n} квартала."
                     for n in (1, 2, 3)]


# --- adding a document -------------------------------------------------------------

def test_add_picks_pdf_and_docx_from_the_url_or_kind_and_kinds_lists_them(
    tmp_path: Path,
) -> None:
    from cli_helpers import monitor

    env = {"MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert monitor("init", cwd=tmp_path, env=env).code == 0
    assert monitor("add", "--no-probe", "https://adilet.zan.kz/rus/docs/V2300033000.PDF",
                   "--name", "a", cwd=tmp_path, env=env).code == 0
    assert monitor("add", "--no-probe", "https://www.gov.kz/uploads/2026/1/order.docx",
                   "--name", "b", cwd=tmp_path, env=env).code == 0
    assert monitor("add", "--no-probe", "https://example.kz/download?id=5", "--kind", "pdf",
                   "--name", "c", cwd=tmp_path, env=env).code == 0
    listed = monitor("sources", "--format", "json", cwd=tmp_path, env=env).json()
    kinds = {s["name"]: s["kind"] for s in listed}
    assert {k: kinds[k] for k in "abc"} == {"a": "pdf", "b": "docx", "c": "pdf"}
    shown = monitor("kinds", cwd=tmp_path, env=env).out
    assert {"pdf", "docx"} <= set(shown.splitlines()) and "no OCR" in shown


def _a_paragraph_flows_across_a_page_break(pdf: bytes) -> bool:
    """Whether some paragraph holds both the last body line of a page and the first of
    the next (the first and last lines of a page here are the header and footer)."""
    _, pages = pdf_file._read(pdf, "test")
    paragraphs = [" ".join(p.text.split()) for p in reflow(pages)]
    for page, following in itertools.pairwise(pages):
        body, next_body = _body(page), _body(following)
        if body and next_body and any(
            body[-1] in p and next_body[0] in p for p in paragraphs
        ):
            return True
    return False


def _body(page: Page) -> list[str]:
    lines = sorted(page.lines, key=lambda ln: -ln.y1)[1:-1]  # header, footer
    return [" ".join(ln.text.split()) for ln in lines]
