"""The pure parts behind the document, diff and capture pages: the timeline's spans and
axis, the diff's layout around its hunks, and how raw bytes are served."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.diff import diff_documents
from monitor.document import Document
from monitor.i18n import Reader
from monitor.web.diffview import layout
from monitor.web.rawtype import served_as
from monitor.web.spans import (
    FAILURE,
    GAP,
    PAUSED,
    REMOVAL,
    StateEvent,
    gap_spans,
    quiet_spans,
    state_spans,
)
from monitor.web.timeline import Dot, Timeline, draw

T0 = datetime(2025, 12, 1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_a_failing_streak_ends_at_the_next_success_and_an_open_one_runs_to_now() -> None:
    spans = state_spans([
        StateEvent("SourceRegistered", at(0)),
        StateEvent("FetchFailed", at(1), "timeout"), StateEvent("FetchFailed", at(2), "dns"),
        StateEvent("VersionCaptured", at(3)),
        StateEvent("FetchFailed", at(5), "tls"),
    ], now=at(10))
    assert [(s.kind, s.start, s.end, s.open, s.count, s.detail) for s in spans] == [
        (FAILURE, at(1), at(3), False, 2, "timeout"), (FAILURE, at(5), at(10), True, 1, "tls")]


def test_a_removal_lasts_until_the_document_is_read_again() -> None:
    spans = state_spans([
        StateEvent("FetchFailed", at(1), "not_found"), StateEvent("DocumentRemoved", at(1)),
        StateEvent("VersionCaptured", at(4)),
        StateEvent("SourcePaused", at(5)), StateEvent("SourceResumed", at(6)),
        StateEvent("SourceRemoved", at(8)),
    ], now=at(10))
    kinds = [(s.kind, s.start, s.end, s.detail) for s in spans]
    assert kinds == [(FAILURE, at(1), at(1), "not_found"), (REMOVAL, at(1), at(4), ""),
                     (PAUSED, at(5), at(6), ""), (REMOVAL, at(8), at(10), "stopped")]


def test_no_check_while_paused_or_no_longer_watched_is_not_a_gap() -> None:
    states = state_spans([StateEvent("SourcePaused", at(10)), StateEvent("SourceResumed", at(20)),
                          StateEvent("SourceRemoved", at(40))], now=at(50))
    gaps = gap_spans([(at(0), at(30)), (at(35), at(50))], quiet_spans(states), shortest=3 * 3600)
    assert [(g.kind, g.start, g.end) for g in gaps] == [
        (GAP, at(0), at(10)), (GAP, at(20), at(30)), (GAP, at(35), at(40))]
    # 12 h without a check, 2 of them paused: 10 h left, shorter than 11 h
    assert gap_spans([(at(0), at(12))], quiet_spans(states), shortest=11 * 3600) == []
    assert gap_spans([(at(0), at(2))], [], shortest=3 * 3600) == []


def test_the_axis_falls_on_midnights_in_the_readers_timezone() -> None:
    timeline = Timeline("doc", datetime(2025, 12, 1, 6), datetime(2025, 12, 13, 6),
                        (Dot(1, datetime(2025, 12, 2, 6), "high"),), ())
    svg = str(draw(timeline, Reader("en", "Asia/Almaty")))
    assert ">Dec 3<" in svg and ">Dec 13<" in svg and ">Dec 1<" not in svg  # 11:00 local
    utc = str(draw(timeline, Reader("en", "UTC")))
    assert ">Dec 3<" in utc

    def tick(svg: str, label: str) -> float:
        before = svg.split(f">{label}<")[0]
        return float(before.rsplit('x="', 1)[1].split('"')[0])
    hour = 980 / (12 * 24)  # Almaty's midnight is 19:00 UTC: its tick is 5 hours left
    assert tick(utc, "Dec 3") - tick(svg, "Dec 3") == pytest.approx(5 * hour, 0.01)


def test_a_removed_paragraph_shows_where_it_was_and_far_paragraphs_fold() -> None:
    old = Document("T", None, tuple(f"Paragraph {n} of the text." for n in range(1, 11)))
    new = Document("T", None, old.paragraphs[:5] + old.paragraphs[6:])  # 6 removed
    blocks = layout(old, new, diff_documents(old, new), Reader())
    shape = [(b.kind, b.shown.kind if b.shown else [p.split()[1] for p in b.paragraphs])
             for b in blocks]
    assert shape == [("fold", ["1", "2", "3", "4"]), ("same", ["5"]),
                     ("hunk", "paragraph_removed"), ("same", ["7"]),
                     ("fold", ["8", "9", "10"])]


def test_raw_bytes_are_served_as_a_page_plain_text_or_a_download() -> None:
    page = served_as("text/html", b'<html><meta charset="KOI8-R"><p>\xf0\xd2\xc9</p>')
    assert (page.media_type, page.download) == ("text/html; charset=koi8-r", False)
    assert served_as("application/xhtml+xml", b"<html/>").media_type == \
        "text/html; charset=utf-8"
    assert served_as("application/json", b'{"a": 1}').media_type == "text/plain; charset=utf-8"
    assert served_as("text/html", b'<meta charset="x;evil=1">\xff').media_type == "text/html"
    assert served_as("text/html", b'<meta charset="klingon">').media_type == \
        "text/html; charset=utf-8"
    pdf = served_as("application/x-pdf", b"%PDF-1.7")
    assert (pdf.media_type, pdf.extension, pdf.download) == ("application/pdf", "pdf", True)
    docx = served_as("", b"PK\x03\x04....word/document.xml")
    assert (docx.extension, docx.download) == ("docx", True)
    assert served_as("", b"%PDF-1.4").extension == "pdf"  # a baseline's bytes, untyped
    assert served_as("", b"<p>hi</p>").media_type == "text/html; charset=utf-8"
    image = served_as("image/svg+xml", b"<svg onload=alert(1)>")
    assert (image.media_type, image.download) == ("text/plain; charset=utf-8", False)
    png = served_as("image/png", b"\x89PNG\r\n")
    assert (png.media_type, png.download) == ("application/octet-stream", True)
