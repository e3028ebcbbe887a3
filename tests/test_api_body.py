"""The gov.kz API's `body` string read with BeautifulSoup (issue 10, item 10): every part
of the string, every kind of entity, tags left open; served by the replica and read
through the article adapter as a check reads it."""

from __future__ import annotations

import pytest

from monitor.fetch import Fetcher
from monitor.replica import GovkzReplica
from monitor.replica.baseline import baseline_body, seed_paragraphs
from monitor.sources.api_body import body_paragraphs
from monitor.sources.base import Capture, SourceSpec
from monitor.sources.blocks import fragment_paragraphs
from monitor.sources.govkz import GovkzArticle

CREATED = "2026-07-14T11:58:00.000+05:00"


def _read(replica: GovkzReplica, fetcher: Fetcher, body: str, article_id: int = 7) -> tuple[
        str, ...]:
    url = replica.add_article("mfa", article_id, lang="ru", title="Брифинг",
                              body_html=body, created_date=CREATED)
    captured = GovkzArticle().capture(SourceSpec(name="a", url=url, kind="govkz"), fetcher)
    assert isinstance(captured, Capture)
    return captured.document.paragraphs


def test_a_body_holding_a_whole_document_among_other_text_keeps_every_paragraph(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    body = ("<p>Вступление.</p>"
            "<!DOCTYPE html><html><head><title>Шаблон</title><style>p{}</style></head>"
            "<body><p>Первый&nbsp;&mdash; абзац.</p></body></html>"
            "<html><body><p>Второй документ.</p></body></html>"
            "<p>После документа.</p>")
    assert _read(replica, fetcher, body) == (
        "Вступление.", "Первый — абзац.", "Второй документ.", "После документа.")


def test_entities_of_every_kind_are_decoded_even_when_escaped_twice(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    body = ("<p>2020&#150;2025 &#x2014; итоги&nbsp;года</p>"
            "<p>&laquo Закон &raquo; &apos;Kazakhstan&apos;s&apos; &hellip;</p>"
            "<p>&amp;laquo;Приказ&amp;nbsp;&amp;numero;&amp;nbsp;12&amp;raquo; AT&amp;T</p>"
            "<p>&amp;lt;b&amp;gt; &amp;amp; &amp;#1; are what the text says</p>")
    assert _read(replica, fetcher, body) == (
        "2020–2025 — итоги года", "« Закон » 'Kazakhstan's' …", "«Приказ № 12» AT&T",
        "&lt;b&gt; &amp; &#1; are what the text says")


def test_tags_left_open_or_closed_twice_and_an_open_comment(
    replica: GovkzReplica, fetcher: Fetcher
) -> None:
    body = ("<p>Один<p>Два</span> и три<div>Четыре<ul><li>а<li>б</ul></div></p></p>"
            "<table><tr><td>ячейка<td>соседняя</table>"
            "<p>Конец.</p><!-- <p>черновик</p>")
    assert _read(replica, fetcher, body) == (
        "Один", "Два и три", "Четыре", "а", "б", "ячейка соседняя", "Конец.")


@pytest.mark.parametrize("as_document", [False, True])
def test_an_ordinary_body_reads_as_the_lxml_path_read_it(
    replica: GovkzReplica, fetcher: Fetcher, as_document: bool
) -> None:
    # The versions already stored were extracted with lxml: an ordinary body must give
    # the same text, or every gov.kz source would report a change after the upgrade.
    body = baseline_body(seed_paragraphs())
    replica.body_as_document = as_document
    read = _read(replica, fetcher, body)
    assert read == tuple(seed_paragraphs())
    assert body_paragraphs(body) == fragment_paragraphs(body)


def test_control_characters_and_nul_bytes_never_break_the_reading() -> None:
    assert body_paragraphs("<p>a\x00b\x07c</p><p>&#0;d</p>") == ["abc", "\ufffdd"]
