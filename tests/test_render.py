"""Pages that need a browser (issue 15): a JavaScript-only page read in Debian's
chromium, through the same extraction, masks and learning as a plain page; what the
page may ask for; the screenshot and layout kept as evidence."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from browser import chromium_path
from conftest import fast_config
from http_faults import FaultServer, Reply

from monitor.addresses import AddressPolicy
from monitor.catalog import register
from monitor.config import SourceConfig, parse_config
from monitor.diff import Change
from monitor.errors import ConfigError, FetchFailed
from monitor.fetch import Fetcher, FetchSettings
from monitor.one_check import build_checker, fetch_settings
from monitor.render.fetcher import RenderingFetcher, shared_renderer
from monitor.render.page import Job
from monitor.render.settings import RenderSettings
from monitor.store.snapshots import get_blob

if chromium_path() is None:
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)

# An empty root; a script puts the text in from /data.json, and a clock that differs on
# every load (learned, then masked).
SHELL = """<!doctype html><html><head><title>Statement</title></head><body>
<div id="root"></div><p id="clock"></p>
<script>
fetch("/data.json").then(r => r.json()).then(d => {
  const root = document.getElementById("root");
  for (const text of d.paragraphs) {
    const p = document.createElement("p"); p.textContent = text; root.appendChild(p);
  }
  document.getElementById("clock").textContent =
    "Updated " + new Date().toISOString() + " #" + Math.random();
});
</script></body></html>"""
TEXT = ["The ministry publishes its annual report on the penitentiary system.",
        "Twelve facilities were inspected between March and October."]


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: what is tested here is the browser, not the store."""
    yield f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.route("/", Reply.page(SHELL))
        serve_text(server, TEXT)
        yield server


def serve_text(server: FaultServer, paragraphs: list[str]) -> None:
    server.route("/data.json", Reply.page(json.dumps({"paragraphs": paragraphs}),
                                          "application/json"))


def plain() -> Fetcher:
    return Fetcher(FetchSettings(min_delay_per_host=0, retries=0, backoff_factor=0))


@pytest.fixture(scope="module")
def renderer() -> Iterator[RenderingFetcher]:
    """The browser of the tests that need no settings of their own: the one the
    checkers of these tests use too (the process's, for their settings)."""
    shared = Fetcher(fetch_settings(fast_config("sqlite://")))
    yield shared_renderer(RenderSettings(timeout=15), shared)
    shared.close()


@pytest.fixture
def checker(store, db_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A checker whose rendered sources share the process's one browser; learning
    (three loads more) only for the test that is about it."""
    learns = "learned" in request.node.name
    # Learning loads the page four times: there it waits for the script's text (the
    # selector) rather than for half a second of network quiet each time.
    config = fast_config(db_url, render={"timeout": "15s", **({"wait": "#root p"} if learns
                                                              else {})})
    c = build_checker(config, store, learn_delay=0.05, learn=learns)
    yield c
    c.fetcher.close()


def watch(store, name: str, url: str, screenshot: bool = False) -> None:  # type: ignore[no-untyped-def]
    register(store, SourceConfig(name=name, url=url, kind="html", interval_seconds=60,
                                 render=True, screenshot=screenshot))


def versions(store, name: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [e.data for e in store.read_stream(name) if e.type == "VersionCaptured"]


def png_header_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_javascript_page_is_captured_learned_and_its_edit_detected(store, checker, site) -> None:
    watch(store, "shell", site.url("/"))
    assert checker.check("shell").outcome == "captured"
    first = versions(store, "shell")[0]
    text = get_blob(store.engine.connect(), first["content_hash"]).decode()
    assert all(p in text for p in TEXT) and "Updated" not in text  # the clock is masked
    learned = [e.data["changes"]["volatile"] for e in store.read_stream("shell")
               if e.type == "SourceReconfigured"]
    assert learned and any("clock" in selector for selector in learned[0])
    assert "screenshot" not in first["evidence"]  # a first version keeps none unless asked
    assert checker.check("shell").outcome == "unchanged"  # the clock moved: not a change
    serve_text(site, [TEXT[0], TEXT[1].replace("Twelve", "Eleven")])
    result = checker.check("shell")
    assert result.outcome == "changed"
    change = next(e.data["change"] for e in store.read_stream("shell")
                  if e.type == "ChangeDetected")
    (hunk,) = Change.from_dict(change).hunks
    assert "Twelve" in hunk.old and "Eleven" in hunk.new and "Updated" not in hunk.new
    changed = versions(store, "shell")[-1]["evidence"]
    assert changed["screenshot"]["media_type"] == "image/png"  # a changed version keeps one
    with store.engine.connect() as conn:
        rendered_html = get_blob(conn, versions(store, "shell")[-1]["raw_hash"]).decode()
        main = get_blob(conn, changed["rendered"]["main_document"]["sha256"])
    assert "Eleven facilities" in rendered_html  # the raw capture is the rendered DOM ...
    assert main == SHELL.encode() and "Eleven" not in main.decode()  # ... beside the HTTP body
    assert changed["rendered"]["main_document"]["status"] == 200
    assert changed["rendered"]["browser"][0].isdigit()


def test_screenshot_and_layout_are_stored_and_named_in_evidence(store, checker, site) -> None:
    watch(store, "pictured", site.url("/"), screenshot=True)
    assert checker.check("pictured").outcome == "captured"
    shot = versions(store, "pictured")[0]["evidence"]["screenshot"]
    with store.engine.connect() as conn:
        png = get_blob(conn, shot["sha256"])
        layout = json.loads(get_blob(conn, shot["layout"]))
    assert png_header_size(png) == (shot["width"], shot["height"]) == (1280, 800)
    assert (layout["width"], layout["height"]) == (shot["width"], shot["height"])
    boxes = {block["text"]: block["box"] for block in layout["blocks"]}
    x, y, w, h = boxes[TEXT[0]]
    assert 0 <= x < 1280 and 0 <= y < 800 and w > 100 and h > 5
    assert boxes[TEXT[1]][1] > y  # the second paragraph is below the first


def test_the_same_screenshot_is_stored_once(store, checker, site) -> None:
    still = "<!doctype html><title>Still</title><p>A page that looks the same every time.</p>"
    site.route("/still", Reply.page(still))
    site.route("/still-again", Reply.page(still))
    watch(store, "one", site.url("/still"), screenshot=True)
    watch(store, "two", site.url("/still-again"), screenshot=True)
    assert {checker.check(name).outcome for name in ("one", "two")} == {"captured"}
    one, two = (versions(store, name)[0]["evidence"]["screenshot"] for name in ("one", "two"))
    assert one["sha256"] == two["sha256"]
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM blobs WHERE sha256 = ?",
                                    (one["sha256"],)).scalar()
    assert rows == 1


def test_third_party_request_is_refused_and_counted(renderer, site) -> None:
    with FaultServer(host="127.0.0.2") as other:
        other.route("/tracker.js", Reply.page("document.title = 'tracked'",
                                              "text/javascript"))
        site.route("/third", Reply.page(
            f"<!doctype html><title>Own</title><p>Own text of the page here.</p>"
            f"<script src='{other.url('/tracker.js')}'></script>"))
        answer = renderer.get(site.url("/third"))
        assert other.hits("/tracker.js") == []
    assert answer.rendered["blocked"] == 1
    assert b"<title>Own</title>" in answer.content


def test_websocket_is_refused(renderer, site) -> None:
    site.route("/socket", Reply.page(
        "<!doctype html><p id='said'>Text of the page.</p><script>const ws = new WebSocket("
        "'ws://' + location.host + '/ws'); ws.onclose = () => "
        "document.getElementById('said').textContent = 'The socket was closed.';</script>"))
    answer = renderer.get(site.url("/socket"))
    assert site.hits("/ws") == [] and b"The socket was closed." in answer.content


def test_private_address_is_refused_without_the_opt_in(site) -> None:
    shared = plain()
    guarded = AddressPolicy(allow_private=False, exempt=("127.0.0.1",))
    rendering = RenderingFetcher(shared.settings, RenderSettings(timeout=10, third_party=True),
                                 shares=shared, addresses=guarded)
    try:
        with FaultServer(host="127.0.0.2") as inside:
            inside.route("/secret.js", Reply.page("document.title = 'leaked'",
                                                  "text/javascript"))
            site.route("/inside", Reply.page(
                f"<!doctype html><title>Page</title><p>Text of the page.</p>"
                f"<script src='{inside.url('/secret.js')}'></script>"))
            answer = rendering.get(site.url("/inside"))  # a third party allowed, but not there
            assert inside.hits("/secret.js") == [] and answer.rendered["blocked"] == 1
            with pytest.raises(FetchFailed) as refused:
                rendering.get(inside.url("/secret.js"))
        assert refused.value.kind == "blocked" and "loopback" in str(refused.value)
    finally:
        rendering.close()


def test_page_that_never_quiets_is_a_timeout(renderer, site) -> None:
    site.route("/busy", Reply.page("<!doctype html><p>Text</p><script>setInterval(() => "
                                   "fetch('/data.json'), 100)</script>"))
    with pytest.raises(FetchFailed) as late:
        renderer.pool.render(Job(site.url("/busy"), seconds=1.5, wait="network"))
    assert late.value.kind == "timeout" and "[render] wait" in str(late.value)


def test_browser_is_recycled_after_its_pages(site) -> None:
    shared = plain()
    rendering = RenderingFetcher(shared.settings, RenderSettings(timeout=10, recycle_after=1),
                                 shares=shared)
    site.route("/plain", Reply.page("<!doctype html><p>A plain paragraph of text.</p>"))
    try:
        for _ in range(2):
            assert b"plain paragraph" in rendering.get(site.url("/plain")).content
        assert rendering.pool.launches == 2
    finally:
        rendering.close()


def test_crashed_browser_is_started_again(renderer, site) -> None:
    site.route("/plain", Reply.page("<!doctype html><p>A plain paragraph of text.</p>"))
    renderer.get(site.url("/plain"))
    launched = renderer.pool.launches
    loop = renderer.pool._running()
    for held in list(renderer.pool._browsers):  # gone from under the pool, as a crash is
        asyncio.run_coroutine_threadsafe(held.browser.close(), loop).result(timeout=10)
    assert b"plain paragraph" in renderer.get(site.url("/plain")).content
    assert renderer.pool.launches == launched + 1


def test_not_found_main_document_is_not_found(renderer, site) -> None:
    site.route("/gone", Reply.page("<p>No such page</p>", status=404))
    with pytest.raises(FetchFailed) as gone:
        renderer.get(site.url("/gone"))
    assert gone.value.kind == "not_found" and gone.value.status == 404


@pytest.mark.parametrize(("toml", "said"), [
    ('[[sources]]\nname = "a"\nurl = "https://example.org/x.pdf"\nkind = "pdf"\n'
     'screenshot = true\n', "sources[0].screenshot: a pdf source is not read in a browser"),
    ('[[sources]]\nname = "a"\nurl = "https://example.org/x.pdf"\nkind = "pdf"\n'
     'render = true\n', "sources[0].render: a pdf source is not read in a browser"),
    ('[render]\nwait = "div[["\n', "render.wait:"),
    ('[render]\nviewport = "big"\n', "render.viewport: 'big': must be WIDTHxHEIGHT"),
    ('[render]\nbrowsers = 2\n', "render.browsers: unknown key"),
])
def test_bad_render_settings_are_refused_at_load(toml: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(toml, Path("monitor.toml"))
    assert said in str(refused.value)


def test_render_settings_are_kept_in_the_sources_events(store) -> None:
    spec = SourceConfig(name="kept", url="https://example.org/", kind="html",
                        interval_seconds=60, render=True, screenshot=True)
    register(store, spec)
    register(store, spec)  # the same settings again: nothing recorded
    register(store, replace(spec, screenshot=False))
    events = store.read_stream("kept")
    assert events[0].data["options"] == {"render": True, "screenshot": True}
    assert [e.type for e in events] == ["SourceRegistered", "SourceReconfigured"]
    assert events[1].data["changes"]["options"] == {"render": True}


def test_missing_browser_is_one_clear_reason_for_the_source(store, db_url: str, site) -> None:
    config = fast_config(db_url, render={"executable": "/nonexistent/chromium"})
    checker = build_checker(config, store, learn=False)
    watch(store, "shell", site.url("/"))
    try:
        result = checker.check("shell")
    finally:
        checker.fetcher.close()
    assert result.outcome == "error"
    assert result.detail.startswith("internal: no browser at /nonexistent/chromium ([render] "
                                    "executable): install Debian's chromium")
    assert site.hits("/") == []


def test_add_probe_renders_with_render_and_finds_no_text_without(db_url: str, site) -> None:
    from monitor.preview import Probe, Unread, probe

    config = fast_config(db_url, render={"timeout": "15s"})
    spec = SourceConfig(name="shell", url=site.url("/"), kind="html", interval_seconds=60)
    (plain_read,) = probe(config, [spec], kind_given=True)
    (rendered,) = probe(config, [replace(spec, render=True)], kind_given=True)
    assert isinstance(plain_read, Unread)
    assert "looks like a JavaScript application" in plain_read.message
    assert isinstance(rendered, Probe) and rendered.status == 200
    assert rendered.first_line == TEXT[0]


def test_a_page_asks_its_host_no_more_than_the_host_gate_allows(site) -> None:
    one_at_a_time = Fetcher(FetchSettings(min_delay_per_host=0, retries=0,
                                          max_concurrent_per_host=1))
    rendering = RenderingFetcher(one_at_a_time.settings, RenderSettings(timeout=10),
                                 shares=one_at_a_time)
    images = "".join(f"<img src='/i{n}.png'>" for n in range(4))
    site.route("/images", Reply.page(f"<!doctype html><p>A page with images.</p>{images}"))
    for n in range(4):
        site.route(f"/i{n}.png", Reply(200, b"", {"Content-Type": "image/png"}, delay=0.15))
    try:
        rendering.get(site.url("/images"))
    finally:
        rendering.close()
    assert all(site.hits(f"/i{n}.png") for n in range(4))  # every image was asked for ...
    assert site.max_in_flight == 1  # ... one at a time, as [fetch] max_concurrent_per_host says


def test_the_web_form_reads_a_javascript_page_in_a_browser_when_asked(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The "Add a source" form: without its "Read it in a browser" box, a JavaScript shell
    is named as one, and the message names the box; with it, the preview shows the text
    the script wrote, and saving registers a source that renders."""
    from web_helpers import serve

    from monitor.config import Config, FetchConfig
    from monitor.store import migrate, open_store
    from monitor.store.queries import get_source, list_sources

    store = open_store(f"sqlite:///{tmp_path / 'web.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    config = Config(path=None, database_url=str(store.engine.url),
                    fetch=FetchConfig(min_delay_per_host=0, retries=0),
                    render={"timeout": "15s"})
    try:
        with serve(store, config) as served:
            editor = served.user("dana", "editor")
            url = site.url("/")
            plain = editor.submit("/sources/preview", {"url": url}, "/sources")
            assert "looks like a JavaScript application" in plain.text
            assert "the box “Read it in a browser”" in plain.text
            shown = editor.submit("/sources/preview", {"url": url, "render": "1"}, "/sources")
            assert shown.status_code == 200 and TEXT[0] in shown.text, shown.text[:1500]
            assert 'name="render" value="1"' in shown.text  # carried to the save
            saved = editor.submit("/sources", {"url": url, "render": "1"}, "/sources",
                                  allow_redirects=False)
            assert saved.status_code == 303
        (name,) = [s.name for s in list_sources(store.engine)]
        assert get_source(store.engine, name).options.get("render") is True
    finally:
        store.engine.dispose()


def test_a_screenshot_source_is_read_in_the_browser_that_takes_its_picture(
        store, checker, site) -> None:  # type: ignore[no-untyped-def]
    """`screenshot = true` alone: the page is read in the browser, so the picture and the
    text of its first version come from the same load."""
    register(store, SourceConfig(name="pictured", url=site.url("/"), kind="html",
                                 interval_seconds=60, screenshot=True))
    assert checker.check("pictured").outcome == "captured"
    (first,) = versions(store, "pictured")
    assert first["evidence"]["screenshot"]["sha256"] and first["evidence"]["rendered"]
    text = get_blob(store.engine.connect(), first["content_hash"]).decode()
    assert TEXT[0] in text  # the script's text: read in the browser, not plainly
