"""`monitor import`: pages watched with urlwatch, changedetection.io, a feed reader or a
plain list become sources, with what could not be carried over said per entry. The
files in tests/data/import are written in each tool's documented format; hostile
files are refused in one line, with nothing registered."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html

from monitor.errors import FetchFailed
from monitor.fetch import Fetcher
from monitor.imports import as_tag, detected
from monitor.replica import NoisySite
from monitor.sources import masking
from monitor.sources.base import Capture, SourceSpec
from monitor.sources.html import HtmlPage
from monitor.tags import tag_problem

DATA = Path(__file__).parent / "data" / "import"
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _sources(run: Any) -> dict[str, dict[str, Any]]:
    result = run("sources", "--format", "json")
    assert result.code == 0, result.err
    return {source["name"]: source for source in result.json()}


def test_urlwatch_jobs_become_sources_with_their_filters_as_selectors(run: Any) -> None:
    result = run("import", str(DATA / "urls.yaml"))
    assert result.code == 0, result.err
    sources = _sources(run)
    assert set(sources) == {"minjust-example-kz-orders", "supreme-court", "news-example-kz",
                            "stats-example-kz-table", "dashboard", "example-kz-about"}
    orders = sources["minjust-example-kz-orders"]
    assert (orders["selector"], orders["ignore"]) == ("div#content", ["div.banner"])
    court = sources["supreme-court"]  # the job's name is a name here: kept
    assert court["selector"] == "xpath://div[@class='decisions']"
    assert court["tags"] == ["courts", "human-rights"]
    assert sources["news-example-kz"]["selector"] == '[id="main"]'
    assert sources["news-example-kz"]["ignore"] == [r"regex:\d+ views"]  # re.sub, no repl
    assert sources["stats-example-kz-table"]["selector"] == "table.data tbody"
    assert sources["dashboard"]["state"] == "paused"  # enabled: false
    assert sources["example-kz-about"]["selector"] is None
    out = result.out
    assert "not imported: job 5 (Disk usage): a shell command job" in out
    assert "not carried over: max_tries" in out and "not carried over: headers" in out
    assert "not carried over: filter grep" in out
    assert "only one selector is carried over" in out  # the third picking filter
    assert "navigate: a browser job" in out
    assert ":contains-text() is unknown; the whole page is watched" in out
    assert "job 8 (the first job again): the same page as job 1" in out
    assert "job 9 (local notes): a file: URL (only http and https pages are watched)" in out
    assert "6 imported, 0 already watched, 3 not imported, 9 settings not carried over" in out
    verified = run("verify")  # registered and paused in one transaction, as a replay has it
    assert verified.code == 0, verified.out + verified.err


def _backup(tmp_path: Path, members: dict[str, Any]) -> Path:
    """A zip as changedetection.io's Backup page makes it."""
    path = tmp_path / "changedetection-backup-20251201100000.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content if isinstance(content, str | bytes)
                             else json.dumps(content))
    return path


@SQLITE
def test_a_changedetection_backup_brings_its_watches_and_says_what_stays(
        run: Any, tmp_path: Path) -> None:
    store = json.loads((DATA / "url-watches.json").read_text(encoding="utf-8"))
    snapshot = "1a2b3c4d-5e6f-4a0b-9c1d-2e3f4a5b6c7d/1733050000.txt"
    path = _backup(tmp_path, {"url-watches.json": store, snapshot: "old text",
                              "url-list.txt": "https://rights.example.kz/reports\r\n"})
    result = run("import", str(path))
    assert result.code == 0, result.err
    sources = _sources(run)
    reports = sources["reports"]
    assert reports["selector"] == "div.report, section#latest"
    assert reports["ignore"] == ["div.share", "xpath://aside"]
    assert reports["interval_seconds"] == 36 * 3600  # 1 day 12 hours
    assert reports["state"] == "paused" and reports["tags"] == ["human-rights", "mfa"]
    article = sources["govkz-mfa-101-ru"]  # a title is not a name here: from its URL
    assert (article["kind"], article["interval_seconds"]) == ("govkz", 3 * 3600)  # default
    assert article["tags"] == ["mfa"]
    shop = sources["shop-example-kz-item-7"]
    assert shop["selector"].startswith("xpath://div[@id='price'] | ")  # CSS as XPath
    assert shop["interval_seconds"] == 300
    assert sources["API"]["interval_seconds"] == 900  # 60 weeks: the config's default
    out = result.out
    assert "history: the snapshots in the backup are not imported" in out
    assert "read without one here" in out and "browser steps (1): none are run" in out
    assert "ignore_text: no counterpart here" in out
    assert "JSON filters have no counterpart" in out
    assert "tag ffffffff-ffff-4fff-8fff-ffffffffffff: not named in the backup" in out
    assert "notification URLs (1): not carried over" in out
    assert "secret" not in out and "bottoken" not in out  # never shown


@SQLITE
def test_a_newer_backup_keeps_each_watch_and_tag_in_its_own_folder(
        run: Any, tmp_path: Path) -> None:
    tag, watch = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918"
    path = _backup(tmp_path, {
        "changedetection.json": {"settings": {"application": {}, "requests": {}}},
        f"{tag}/tag.json": {"title": "Суды Казахстана", "uuid": tag},
        f"{watch}/watch.json": {"url": "https://sud.example.kz/acts", "title": "acts",
                                "tags": [tag], "include_filters": ["xpath1://main"],
                                "paused": False},
        f"{watch}/history.txt": "1733050000,1733050000.txt\n",
    })
    result = run("import", "--format", "json", str(path))
    assert result.code == 0, result.err
    report = result.json()
    assert report["format"] == "changedetection" and report["counts"]["imported"] == 1
    acts = _sources(run)["acts"]
    assert (acts["selector"], acts["tags"]) == ("xpath://main", ["суды-казахстана"])
    assert report["entries"][0]["changed"] == [
        "tag 'Суды Казахстана': tagged 'суды-казахстана' (tags are lowercase words joined "
        "by '-')"]


@SQLITE
def test_opml_folders_become_tags_and_a_site_is_watched_rather_than_its_feed(
        run: Any) -> None:
    result = run("import", "--tag", "imported", str(DATA / "subscriptions.opml"))
    assert result.code == 0, result.err
    by_url = {s["url"]: s for s in _sources(run).values()}
    assert set(by_url) == {"https://mfa.example.kz/news", "https://minjust.example.kz/feed",
                           "https://parlam.example.kz/", "https://adilet.example.kz/constitution",
                           "https://blog.example.com/"}
    assert by_url["https://mfa.example.kz/news"]["tags"] == ["government", "imported",
                                                             "ministries"]
    assert by_url["https://parlam.example.kz/"]["tags"] == ["government", "imported"]
    assert by_url["https://minjust.example.kz/feed"]["name"] == "Минюст"
    assert "feed https://mfa.example.kz/rss.xml: not watched; its site (htmlUrl) is" \
        in result.out
    assert "no htmlUrl: the feed itself is watched" in result.out


@SQLITE
def test_a_list_of_urls_and_a_second_import_finds_its_pages_watched(run: Any) -> None:
    first = run("import", "--interval", "1h", str(DATA / "urls.txt"))
    assert first.code == 0, first.err
    sources = _sources(run)
    assert len(sources) == 3 and {s["interval_seconds"] for s in sources.values()} == {3600}
    assert sources["adilet-example-kz-rus-docs-v2300000001-pdf"]["kind"] == "pdf"
    again = run("import", "--interval", "2h", str(DATA / "urls.txt"))
    assert again.code == 0, again.err
    assert "line 2: already watched as govkz-mfa-101-ru; its settings are kept" in again.out
    assert "0 imported, 3 already watched" in again.out
    assert {s["interval_seconds"] for s in _sources(run).values()} == {3600}


@SQLITE
def test_a_dry_run_says_what_it_would_import_and_registers_nothing(run: Any) -> None:
    result = run("import", "--dry-run", str(DATA / "urls.yaml"))
    assert result.code == 0, result.err
    assert "would import supreme-court" in result.out
    assert "(dry run: nothing registered)" in result.out
    assert _sources(run) == {}


BOMB = b'{"watching": {}, "padding": "' + b" " * (20 * 2**20) + b'"}'
XXE = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&x;" htmlUrl="https://example.com/"/></body></opml>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<opml version="2.0"><body><outline text="&d;" htmlUrl="https://example.com/"/></body></opml>
"""
HOSTILE = {
    "bad.yaml": ("url: https://example.com/a\nfilter: [css: div\n", "not valid YAML (line 3)"),
    "code.yaml": ('url: !!python/object/apply:os.system ["touch pwned"]\n',
                  "could not determine a constructor"),
    "xxe.opml": (XXE, "refused: DTDForbidden"),
    "laughs.opml": (LAUGHS, "refused: DTDForbidden"),
    "bomb.zip": (BOMB, "unpacks to more than 16 MB; refused"),
    "ftp.txt": ("https://example.com/a\nftp://example.com/b\n",
                "line 2: 'ftp://example.com/b' is not an http(s) URL; nothing was imported"),
    "password.yaml": ("url: https://example.com/a\n---\nurl: https://me:hunter2@example.com/b\n",
                      "job 2: 'https://…@example.com/b': a URL must not carry a user name"),
    "broken.zip": (b"PK\x03\x04 not really a zip", "not a readable zip"),
    "notes.txt": ("just some words\n", "not a file `monitor import` knows"),
    "types.zip": (json.dumps({"watching": {"1b2c": {"url": "https://example.com/a",
                                                     "browser_steps": 5}}}),
                  "not a changedetection file as that tool writes it"),
}


@SQLITE
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_or_broken_file_is_refused_in_one_line(run: Any, tmp_path: Path,
                                                         name: str) -> None:
    content, said = HOSTILE[name]
    path = tmp_path / name
    if name.endswith(".zip") and name != "broken.zip":
        path = _backup(tmp_path, {"url-watches.json": content})
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = run("import", str(path))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and said in result.err, result.err
    assert "Traceback" not in result.err and "hunter2" not in result.err + result.out
    assert "root:" not in result.err  # /etc/passwd was never read
    assert _sources(run) == {}
    assert not (tmp_path / "pwned").exists()


@SQLITE
def test_from_names_the_format_when_the_content_does_not(run: Any, tmp_path: Path) -> None:
    urls = tmp_path / "watch.lst"
    urls.write_text("https://example.com/a\n", encoding="utf-8")
    wrong = run("import", "--from", "opml", str(urls))
    assert wrong.code == 2 and "not valid XML" in wrong.err
    assert run("import", "--from", "urls", str(urls)).code == 0
    assert set(_sources(run)) == {"example-com-a"}


def test_each_fixture_is_told_by_its_content() -> None:
    assert detected((DATA / "urls.yaml").read_bytes()) == "urlwatch"
    assert detected((DATA / "url-watches.json").read_bytes()) == "changedetection"
    assert detected((DATA / "subscriptions.opml").read_bytes()) == "opml"
    assert detected((DATA / "urls.txt").read_bytes()) == "urls"
    assert detected(b"PK\x03\x04...") == "changedetection"
    assert detected(b"\xff\xfe not text") is None


@given(st.text(max_size=80))
def test_a_label_becomes_a_valid_tag_or_none(label: str) -> None:
    tag = as_tag(label)
    assert tag is None or tag_problem(tag) is None


PAGE = html.fromstring("<html><body><div id=main><p>one</p><p>two</p></div>"
                       "<template><p>not shown</p></template></body></html>")


def test_an_xpath_selector_picks_elements_only() -> None:
    assert [e.text for e in masking.select(PAGE, "xpath://div[@id='main']/p")] == ["one", "two"]
    assert masking.select(PAGE, "xpath://p/text()") == []  # text nodes are not elements
    assert [e.text for e in masking.select(PAGE, "xpath://p")] == ["one", "two"]  # no template
    assert masking.selector_problem("xpath://div[@id='main'] | //p") is None
    assert masking.ignore_problem("xpath://aside") is None


@pytest.mark.parametrize("expression", ["xpath://p[", "xpath:string(//p)", "xpath:count(//p)",
                                        "xpath://p[re:test(., 'o')]"])
def test_an_xpath_that_cannot_select_elements_is_refused_when_given(expression: str) -> None:
    problem = masking.selector_problem(expression)
    assert problem is not None and problem.startswith(f"XPath {expression!r} is not valid")


def test_an_xpath_that_fails_only_on_some_page_fails_that_check_in_words() -> None:
    expression = "xpath://nav[re:test(., 'menu')]"  # no <nav> on the page it is tried on
    assert masking.selector_problem(expression) is None
    page = html.fromstring("<html><body><nav>menu</nav><p>text</p></body></html>")
    with pytest.raises(FetchFailed, match="failed on this page"):
        masking.select(page, expression)


def test_an_html_source_reads_the_same_text_through_xpath_as_through_css(
        fetcher: Fetcher) -> None:
    with NoisySite(pages=5, seed=7) as site:
        texts = []
        for selector, ignore in (("article", ".views"),
                                 ("xpath://article", "xpath://*[contains(@class, 'views')]")):
            spec = SourceSpec(name="page", url=site.page_url(4), kind="html",
                              selector=selector, ignore=(ignore,))
            got = HtmlPage().capture(spec, fetcher)
            assert isinstance(got, Capture)
            texts.append(got.document.canonical_text())
    assert texts[0] == texts[1] and "Views:" not in texts[1]


@SQLITE
def test_a_device_a_binary_or_a_terminal_escape_is_one_clean_line(run: Any,
                                                                   tmp_path: Path) -> None:
    """Files are read with a cap (stat says 0 bytes for /dev/zero and pipes), a binary
    is not text, and an escape sequence in a URL never reaches the terminal raw."""
    endless = run("import", "/dev/zero")
    assert endless.code == 2 and "/dev/zero: more than 64 MB" in endless.err, endless.err
    binary = tmp_path / "urls.txt"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe")
    for args, said in ((("import", str(binary)), "not a file `monitor import` knows"),
                       (("add", "--from-file", str(binary)), "not UTF-8 text")):
        refused = run(*args)
        assert refused.code == 2 and said in refused.err, (args, refused.err)
    escaped = tmp_path / "escape.txt"
    escaped.write_text("http://127.0.0.1/\x1b]0;PWNED\x07\n", encoding="utf-8")
    for args in (("import", str(escaped)), ("add", "--no-probe", "http://127.0.0.1/\x1b]0;x\x07")):
        said = run(*args)
        assert said.code != 0 and "\x1b" not in said.err and "\x07" not in said.err, said.err
        assert "Traceback" not in said.err and len(said.err.strip().splitlines()) == 1
    assert _sources(run) == {}
