"""`monitor report` and `monitor diff` as a user meets them, on SQLite and PostgreSQL.

The changes are real events appended to a real store: versions with their
texts, ChangeDetected events made by `diff_documents`, a publication on a list
and a confirmed removal.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from change_story import assert_valid
from cli_helpers import child_environment, monitor

from monitor.clock import ManualClock
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.events import (
    BaselineImported,
    ChangeDetected,
    DocumentPublished,
    DocumentRemoved,
    SourceRegistered,
    VersionCaptured,
)
from monitor.report.filters import parse_filter
from monitor.report.formats import render_report
from monitor.report.gather import gather_report
from monitor.store import EventStore
from monitor.store.eventstore import utcnow
from monitor.store.snapshots import Blob

ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert(1)</script>"
PRESS_URL = "https://www.gov.kz/memleket/entities/mfa/press/news/details/1"

V1 = Document("Human rights conference", "2025-12-11", (
    "The conference gathered 120 participants.",
    "Minister Artur Lastayev opened it.",
    f"Remarks {SCRIPT} were noted.",
))
V2 = Document("Human rights conference", "2025-12-11", (
    "The conference gathered 150 participants.",
    "Minister Artur Lastayev opened it.",
    f"Remarks {SCRIPT} were noted twice.",
))
V3 = Document("Human rights conference", "2025-12-11", (
    "The conference gathered 150 participants.",
    "Deputy Minister Artur Lastayev opened it.",
    f"Remarks {SCRIPT} were noted twice.",
))


@dataclass(frozen=True)
class Seeded:
    """The event ids of what was recorded, and a moment between the two edits."""

    number_edit: str  # mfa-press v1 -> v2, high
    wording_edit: str  # mfa-press v2 -> v3, medium
    published: str  # akorda-decrees, medium
    removed: str  # mfa-archive, high
    between_edits: datetime

    @property
    def all(self) -> list[str]:
        return [self.number_edit, self.wording_edit, self.published, self.removed]


def _register(store: EventStore, name: str, url: str, kind: str = "govkz") -> None:
    store.append(name, 0, [SourceRegistered(name=name, url=url, kind=kind, interval_seconds=900)])


def _baseline(store: EventStore, name: str, doc: Document) -> None:
    blob = Blob.text(doc.canonical_text())
    store.append(name, store.stream_version(name), [BaselineImported(
        content_hash=blob.sha256, origin="test", title=doc.title, published=doc.published,
    )], blobs=[blob])


def _capture(store: EventStore, name: str, old: Document, new: Document) -> str:
    """Record `new` as the next version and the change from `old`; the change's event id."""
    before, after = Blob.text(old.canonical_text()), Blob.text(new.canonical_text())
    change = diff_documents(old, new)
    stored = store.append(name, store.stream_version(name), [
        VersionCaptured(content_hash=after.sha256, url=PRESS_URL, title=new.title,
                        published=new.published),
        ChangeDetected(from_hash=before.sha256, to_hash=after.sha256,
                       significance=change.significance, classes=change.classes,
                       summary=change.summary(), change=change.to_dict()),
    ], blobs=[after])
    return stored[-1].event_id


def seed(store: EventStore) -> Seeded:
    store.clock = clock = ManualClock()
    _register(store, "mfa-press", PRESS_URL)
    _baseline(store, "mfa-press", V1)
    number_edit = _capture(store, "mfa-press", V1, V2)
    clock.advance(0.02)
    between = clock()
    clock.advance(0.02)
    wording_edit = _capture(store, "mfa-press", V2, V3)

    _register(store, "akorda-decrees", "https://www.akorda.kz/en/decrees", kind="govkz-list")
    published = store.append("akorda-decrees", 1, [DocumentPublished(
        item_id="5", url="https://www.akorda.kz/en/decrees/5", title=f"{SCRIPT} Decree No. 5",
    )])[-1].event_id

    _register(store, "mfa-archive", "https://www.gov.kz/memleket/entities/mfa/press/news/2")
    _baseline(store, "mfa-archive", V1)
    removed = store.append("mfa-archive", 2, [DocumentRemoved(status=404, confirmations=3)])
    return Seeded(number_edit, wording_edit, published, removed[-1].event_id, between)


@pytest.fixture
def seeded(store: EventStore) -> Seeded:
    return seed(store)


def report(store: EventStore, fmt: str, *, since: str = "1d", until: str | None = None,
           source: str | None = None, min_significance: str | None = None) -> str:
    now = utcnow()
    wanted = parse_filter(since, until, source, min_significance, now)
    return render_report(gather_report(store.engine, wanted, now), fmt)


def report_ids(store: EventStore, **filters: str | None) -> list[str]:
    return [c["event_id"] for c in json.loads(report(store, "json", **filters))["changes"]]  # type: ignore[arg-type]


def run(db_url: str, tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return monitor(*args, cwd=tmp_path, env={"MONITOR_DATABASE_URL": db_url})


# --- every format -------------------------------------------------------------
def test_every_format_is_produced_for_the_same_changes(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    for fmt in ("text", "markdown", "html", "json", "atom"):
        result = run(db_url, tmp_path, "report", "--format", fmt)
        assert result.code == 0, (fmt, result.err)
        for event_id in seeded.all:
            assert event_id in result.out, (fmt, event_id)


def test_text_report_is_plain_with_markers_when_piped(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    result = run(db_url, tmp_path, "report")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "The conference gathered [-120-]{+150+} participants." in result.out
    assert "{+Deputy+} Minister Artur Lastayev" in result.out
    assert "paragraph 1 · number · high" in result.out


def test_text_report_is_coloured_on_a_terminal(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    leader, follower = pty.openpty()
    env = {k: v for k, v in child_environment().items() if k != "NO_COLOR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--database", db_url, "report"],
        cwd=tmp_path, env=env, stdout=follower, stderr=subprocess.PIPE,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    text = out.decode("utf-8")
    assert "\x1b[31m120\x1b[0m\x1b[32m150\x1b[0m" in text
    assert "[-120-]" not in text


def test_output_writes_one_file_and_prints_nothing(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    target = tmp_path / "report.html"
    result = run(db_url, tmp_path, "report", "--format", "html", "--output", str(target))
    assert result.code == 0, result.err
    assert result.out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("report")] == ["report.html"]


# --- atom, json, markdown, html ------------------------------------------------
def test_atom_output_parses_with_one_entry_per_change(store: EventStore, seeded: Seeded) -> None:
    feed = ET.fromstring(report(store, "atom").encode("utf-8"))
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert (feed.findtext(f"{ATOM}{name}") or "").strip(), name
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "govkz-monitor"
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert sorted(ids) == sorted(f"urn:govkz-monitor:event:{i}" for i in seeded.all)
    for entry in entries:
        assert entry.findtext(f"{ATOM}title")
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html"
    press = next(e for e in entries if e.findtext(f"{ATOM}id", "").endswith(seeded.number_edit))
    link = press.find(f"{ATOM}link")
    assert link is not None and link.get("href") == PRESS_URL
    assert '<del class="diff-del"' in (press.findtext(f"{ATOM}content") or "")


def test_atom_entry_ids_are_stable_across_runs(store: EventStore, seeded: Seeded) -> None:
    def ids() -> list[str | None]:
        feed = ET.fromstring(report(store, "atom"))
        return [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]

    assert ids() == ids()


def test_json_has_the_documented_shape(store: EventStore, seeded: Seeded) -> None:
    data = json.loads(report(store, "json"))
    assert set(data) == {"generated_at", "since", "until", "source_glob", "min_significance",
                         "changes"}
    assert data["generated_at"].endswith("Z")
    datetime.fromisoformat(data["generated_at"])
    assert [c["event_id"] for c in data["changes"]] == seeded.all
    for change in data["changes"]:
        assert_valid(change, "change.schema.json")  # the one shape, see change.schema.json
        for hunk in change["hunks"]:
            assert "".join(op["old"] for op in hunk["ops"]) == hunk["old"]
            assert "".join(op["new"] for op in hunk["ops"]) == hunk["new"]
    by_id = {c["event_id"]: c for c in data["changes"]}
    number = by_id[seeded.number_edit]
    assert (number["from_version"]["number"], number["to_version"]["number"]) == (1, 2)
    assert number["title"] == "Human rights conference"
    assert number["source"] == {"name": "mfa-press", "url": PRESS_URL}
    assert number["hunks"][0]["location"] == {"field": "body", "old_paragraph": 1,
                                              "new_paragraph": 1}
    assert by_id[seeded.published]["url"] == "https://www.akorda.kz/en/decrees/5"
    assert by_id[seeded.removed]["hunks"] == []
    assert by_id[seeded.removed]["removed"]["last_text"] == "\n\n".join(V1.paragraphs)


def test_page_script_is_escaped_in_html_and_atom(store: EventStore, seeded: Seeded) -> None:
    html = report(store, "html")
    assert "<script" not in html.lower()
    assert "Remarks &lt;script&gt;alert(1)&lt;/script&gt; were noted" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Decree No. 5" in html

    xml = report(store, "atom")
    assert "<script" not in xml.lower()
    feed = ET.fromstring(xml)
    for content in feed.iter(f"{ATOM}content"):
        inner = content.text or ""  # the HTML a feed reader will render
        assert "<script" not in inner.lower()
    assert any("&lt;script&gt;alert(1)" in (c.text or "") for c in feed.iter(f"{ATOM}content"))


def test_html_report_is_self_contained(store: EventStore, seeded: Seeded) -> None:
    html = report(store, "html")
    assert "<style>" in html and "<link" not in html and "src=" not in html
    assert "default-src 'none'" in html  # even an escaping bug could not run or load anything
    assert '<del class="diff-del"' in html and '<ins class="diff-ins"' in html
    assert "paragraph 2 · wording" in html


def test_markdown_shows_struck_old_and_bold_new(store: EventStore, seeded: Seeded) -> None:
    markdown = report(store, "markdown")
    assert "The conference gathered ~~120~~ **150** participants." in markdown
    assert "**Deputy** Minister Artur Lastayev" in markdown
    assert "\\<script\\>alert(1)\\</script\\>" in markdown  # literal text, not raw HTML
    assert f"<{PRESS_URL}>" in markdown


# --- filters -----------------------------------------------------------------
def test_source_glob_selects_sources_by_name(store: EventStore, seeded: Seeded) -> None:
    assert report_ids(store, source="mfa-*") == [
        seeded.number_edit, seeded.wording_edit, seeded.removed]
    assert report_ids(store, source="akorda-decrees") == [seeded.published]


def test_min_significance_keeps_that_level_and_higher(store: EventStore, seeded: Seeded) -> None:
    assert report_ids(store, min_significance="high") == [seeded.number_edit, seeded.removed]
    assert report_ids(store, min_significance="medium") == seeded.all
    assert report_ids(store, min_significance="low") == seeded.all


def test_since_and_until_bound_the_period(store: EventStore, seeded: Seeded) -> None:
    moment = seeded.between_edits.isoformat() + "Z"
    assert report_ids(store, since=moment) == [
        seeded.wording_edit, seeded.published, seeded.removed]
    assert report_ids(store, since="2000-01-01", until=moment) == [seeded.number_edit]
    assert report_ids(store, since="2000-01-01", until="2000-01-02") == []


def test_default_period_is_the_last_seven_days(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    data = run(db_url, tmp_path, "report", "--format", "json").json()
    since = datetime.fromisoformat(data["since"])
    generated = datetime.fromisoformat(data["generated_at"])
    assert (generated - since).days == 7
    assert len(data["changes"]) == 4


@pytest.mark.parametrize("args", [
    ("--since", "yesterday"),
    ("--since", "7x"),
    ("--until", "2025-13-01"),
    ("--since", "2025-12-10", "--until", "2025-12-01"),
    ("--min-significance", "urgent"),
    ("--source", "no-such-*"),
])
def test_bad_filter_is_one_line_and_exit_2(
    store: EventStore, db_url: str, tmp_path: Path, args: tuple[str, ...],
) -> None:
    result = run(db_url, tmp_path, "report", *args)
    assert result.code == 2, result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert args[0] in result.err


# --- monitor diff ------------------------------------------------------------
def test_diff_between_v1_and_v3_shows_the_combined_change(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    text = run(db_url, tmp_path, "diff", "mfa-press", "--from", "1", "--to", "3")
    assert text.code == 0, text.err
    assert "mfa-press: version 1 → 3" in text.out
    assert "[-120-]{+150+}" in text.out
    assert "{+Deputy+} Minister" in text.out
    assert "were noted {+twice+}." in text.out  # the space stays outside the marker

    data = run(db_url, tmp_path, "diff", "mfa-press", "--from", "1", "--to", "3",
               "--format", "json").json()
    assert (data["from_version"], data["to_version"]) == (1, 3)
    assert [h["location"]["new_paragraph"] for h in data["hunks"]] == [1, 2, 3]
    assert data["title"] == "Human rights conference"
    assert data["significance"] == "high"


def test_diff_defaults_to_the_previous_and_the_latest_version(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    data = run(db_url, tmp_path, "diff", "mfa-press", "--format", "json").json()
    assert (data["from_version"], data["to_version"]) == (2, 3)
    assert [h["kind"] for h in data["hunks"]] == ["wording"]


def test_diff_renders_markdown_and_escaped_html(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
) -> None:
    markdown = run(db_url, tmp_path, "diff", "mfa-press", "--from", "1", "--to", "2",
                   "--format", "markdown")
    assert "~~120~~ **150**" in markdown.out
    html = run(db_url, tmp_path, "diff", "mfa-press", "--from", "1", "--to", "2",
               "--format", "html")
    assert html.code == 0, html.err
    assert "<script" not in html.out.lower() and "&lt;script&gt;" in html.out


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "1", "--to", "9"), "has no version 9 (versions 1 to 3)"),
    (("--to", "1"), "version 1 is the first"),
])
def test_diff_of_a_missing_version_is_one_line_and_exit_2(
    store: EventStore, seeded: Seeded, db_url: str, tmp_path: Path,
    args: tuple[str, ...], message: str,
) -> None:
    result = run(db_url, tmp_path, "diff", "mfa-press", *args)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1


def test_diff_of_an_unknown_source_is_exit_2(store: EventStore, db_url: str,
                                             tmp_path: Path) -> None:
    result = run(db_url, tmp_path, "diff", "nowhere")
    assert result.code == 2 and "no source named 'nowhere'" in result.err


# --- the HTML page in a real browser -------------------------------------------
DEL_BACKGROUND = (0xFF, 0xD7, 0xD5)
INS_BACKGROUND = (0xCC, 0xFF, 0xD8)


def test_html_report_shows_the_diff_in_headless_chromium(
    store: EventStore, seeded: Seeded, tmp_path: Path,
) -> None:
    browser = shutil.which("chromium") or ("/usr/bin/chromium"
                                           if Path("/usr/bin/chromium").exists() else None)
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(report(store, "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
        capture_output=True, timeout=120, check=False,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    colours = png_colours(shot.read_bytes())
    assert len(colours) > 50  # text, not a blank page
    assert any(_near(c, DEL_BACKGROUND) for c in colours), "no deleted text highlighted"
    assert any(_near(c, INS_BACKGROUND) for c in colours), "no inserted text highlighted"


def _near(colour: tuple[int, ...], target: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], target, strict=True))


def png_colours(data: bytes) -> set[tuple[int, ...]]:
    """The distinct pixel colours of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, "unexpected PNG layout"
    size = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * size
    previous, colours = bytearray(stride), set()
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, size)
        colours.update(tuple(row[x:x + size]) for x in range(0, stride, size))
        previous = row
    return colours


def _unfilter(kind: int, row: bytearray, above: bytearray, size: int) -> bytearray:
    for i in range(len(row)):
        left = row[i - size] if i >= size else 0
        up, corner = above[i], above[i - size] if i >= size else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            row[i] = (row[i] + _paeth(left, up, corner)) & 0xFF
    return row


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c
