"""A page that is an empty JavaScript application (issue 15, item 4): `monitor add` and
the web app's preview say so and name `--render`, instead of "no main content"; a page
whose text is merely short, a page with scripts, and every replica page with text are
no shell. Shells written here in the shapes the frameworks' own templates send; real
HTTP servers on 127.0.0.1 (tests/http_faults.py, the replicas), a real SQLite store,
the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from article_shapes import SHAPES, render
from http_faults import FaultServer, Reply

from monitor.replica import GovkzReplica, NoisySite
from monitor.replica.noise import Noise
from monitor.replica.pages import block_page, not_found_page
from monitor.shipped import snapshot
from monitor.sources.blocks import parse_html
from monitor.sources.shell import SHELL_TEXT, app_shell, page_shell

CRA = ('<!doctype html><html lang="en"><head><meta charset="utf-8"/><title>React App</title>'
       '<script defer="defer" src="/static/js/main.8f3a1c2e.js"></script>'
       '<link href="/static/css/main.073c9b0a.css" rel="stylesheet"></head><body>'
       "<noscript>You need to enable JavaScript to run this app.</noscript>"
       '<div id="root"></div></body></html>')
NEXT = ('<!DOCTYPE html><html><head><meta charSet="utf-8"/><title>Ministry of Energy</title>'
        + "".join(f'<script src="/_next/static/chunks/{c}.js" defer=""></script>'
                  for c in ("webpack-5b3a4e1c", "framework-2c79e2a6", "main-0b4c1d3e",
                            "pages/_app-7e3f"))
        + '</head><body><div id="__next"></div><script id="__NEXT_DATA__" '
        'type="application/json">{"props":{"pageProps":{}},"page":"/news/[id]",'
        '"buildId":"x1","nextExport":true}</script></body></html>')
ANGULAR = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Portal</title>'
           '<base href="/"><link rel="stylesheet" href="styles.ef46db37.css"></head><body>'
           "<app-root>Loading...</app-root>"
           + "".join(f'<script src="{c}.js" type="module"></script>'
                     for c in ("runtime.c8a2b3e0", "polyfills.d1a7f1c4", "main.9f4b2e1a"))
           + "</body></html>")
VUE = ('<!DOCTYPE html><html lang=""><head><meta charset="utf-8"><title>registry</title>'
       '<script defer src="/js/chunk-vendors.5e2a.js"></script>'
       '<script defer src="/js/app.41c3.js"></script></head><body><noscript><strong>'
       "We're sorry but registry doesn't work properly without JavaScript enabled. Please "
       'enable it to continue.</strong></noscript><div id="app"></div></body></html>')
FLUTTER = ('<!DOCTYPE html><html><head><meta charset="UTF-8"><title>app</title></head>'
           '<body><script src="flutter_bootstrap.js" async></script></body></html>')

CREATED = "2026-07-14T11:58:00.000+05:00"

SHELLS = {
    "create-react-app": (CRA, 'an empty <div id="root"> and 1 script, no text'),
    "next.js": (NEXT, 'an empty <div id="__next"> and 4 scripts, no text'),
    "angular": (ANGULAR, 'an empty <app-root> and 3 scripts, only "Loading..." as text'),
    "vue": (VUE, 'an empty <div id="app"> and 2 scripts, no text'),
    "flutter": (FLUTTER, "an empty body and 1 script, no text"),
}

SHORT = ("<html><head><title>Office</title><script src=/analytics.js></script></head><body>"
         "{}<script>window.dataLayer = [];</script></body></html>")
NOT_SHELLS = {
    # short texts with scripts, but no empty mount element
    "short page": SHORT.format("<h1>Closed</h1><p>The office is closed for repairs.</p>"),
    "one word": SHORT.format("<p>Closed.</p>"),
    # the mount holds the page's text, rendered by the server
    "server-rendered": SHORT.format('<div id="app"><p>Closed today.</p></div>'),
    "server-rendered next.js": NEXT.replace('<div id="__next"></div>',
                                            '<div id="__next"><h1>Tariffs</h1></div>'),
    # an empty mount, but nothing that runs: its script tags hold data
    "no program": ('<html><body><div id="root"></div><script type="application/ld+json">'
                   '{"@type": "NewsArticle"}</script></body></html>'),
    "no script": '<html><body><div id="root"></div></body></html>',
    # a <noscript> left open swallows the page that follows (libxml2 does not read it as
    # raw text): a page of text, not a shell's message
    "open noscript": SHORT.format("<noscript><div id=nojs></noscript><div><p>"
                                  + "The park counted 27 bears this year. " * 20
                                  + "</p></div>"),
    "enough text beside an empty root": SHORT.format(
        '<div id="root"></div><p>' + "x" * (SHELL_TEXT + 1) + "</p>"),
}


@pytest.mark.parametrize("name", SHELLS)
def test_each_framework_shell_is_told_with_what_showed_it(name: str) -> None:
    markup, said = SHELLS[name]
    shell = page_shell(markup.encode())
    assert shell is not None and shell.said() == said


@pytest.mark.parametrize("name", NOT_SHELLS)
def test_a_page_whose_text_is_short_or_that_runs_nothing_is_no_shell(name: str) -> None:
    assert page_shell(NOT_SHELLS[name].encode()) is None


def test_json_a_pdf_and_an_empty_answer_are_not_read_as_pages() -> None:
    assert page_shell(b'{"root": ""}') is None
    assert page_shell(b"%PDF-1.7\n<script>") is None
    assert page_shell(b"") is None
    # a byte order mark and blank lines before the markup are still a page
    assert page_shell(b"\xef\xbb\xbf\r\n  " + CRA.encode()) is not None


def test_no_article_page_of_the_shapes_or_the_replicas_is_a_shell() -> None:
    for shape in SHAPES:
        assert app_shell(parse_html(render(shape))) is None, shape.name
    baseline = "govkz-mfa-2025-12-11-human-rights-penitentiary.en.txt"  # shipped, as text
    assert page_shell(snapshot(baseline).read_bytes()) is None
    noise = Noise(seed=3)
    for markup in (not_found_page("ru", noise), block_page(noise)):
        assert page_shell(markup.encode()) is None
    with NoisySite(pages=3, seed=5) as site:
        for n in (1, 2, 3):
            assert page_shell(requests.get(site.page_url(n), timeout=5).content) is None
    with GovkzReplica(prerendered=True) as replica:
        url = replica.add_article("mfa", 7, lang="en", title="Visa regime eased",
                                  paragraphs=["Visas are no longer needed for 30 days."],
                                  created_date=CREATED)
        assert page_shell(requests.get(url, timeout=5).content) is None
        replica.prerendered = False  # what gov.kz really serves: the portal's shell
        shell = page_shell(requests.get(url, timeout=5).content)
    assert shell is not None and shell.said() == 'an empty <div id="root"> and 2 scripts, no text'


# --- monitor add -------------------------------------------------------------------


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the probe reads no store."""
    (tmp_path / "monitor.toml").write_text('[fetch]\nretries = 0\nmin_delay_per_host = "0s"\n')
    return f"sqlite:///{tmp_path / 'monitor.db'}"


def test_add_refuses_a_shell_naming_render_and_adds_nothing(run, server) -> None:  # type: ignore[no-untyped-def]
    for name, (markup, _) in SHELLS.items():
        server.route(f"/{name}", Reply.page(markup))
    server.route("/short", Reply.page(NOT_SHELLS["short page"]))
    url = server.url("/create-react-app")
    added = run("add", url)
    assert added.code == 1 and "Traceback" not in added.err, added.err
    assert added.err == (f"error: {url} looks like a JavaScript application (an empty "
                         '<div id="root"> and 1 script, no text): add it with --render to '
                         "read it in a browser; nothing was added (--no-probe adds it "
                         "unread)\n")
    # all at once: each said on its line; the Angular loader is read as text, and still
    # refused: it is not the page
    added = run("add", *(server.url(f"/{name}") for name in SHELLS))
    assert added.code == 1 and "Traceback" not in added.err, added.err
    assert added.err.splitlines()[1:] == [
        f"  {server.url(f'/{name}')} looks like a JavaScript application ({said}): add it "
        "with --render to read it in a browser" for name, (_, said) in SHELLS.items()]
    assert run("sources", "--format", "json").json() == []
    short = run("add", server.url("/short"))
    assert short.code == 0, short.err
    assert "    text: The office is closed for repairs." in short.out.splitlines()


def test_a_gov_kz_article_read_as_a_plain_page_is_its_shell(run) -> None:  # type: ignore[no-untyped-def]
    with GovkzReplica() as replica:
        url = replica.add_article("mfa", 31, lang="en", title="Briefing on the visa regime",
                                  paragraphs=["Visas are no longer needed for 30 days."],
                                  created_date=CREATED)
        as_html = run("add", url, "--kind", "html", "--name", "shell",
                      "--selector", "article")
        as_article = run("add", url)  # the govkz kind reads the API, not the page
    assert as_html.code == 1
    assert as_html.err.startswith(f'error: {url} looks like a JavaScript application (an '
                                  'empty <div id="root"> and 2 scripts, no text): add it '
                                  "with --render")
    assert as_article.code == 0, as_article.err


def test_the_web_preview_says_the_same(tmp_path: Path) -> None:
    from test_web_sources import _config, _error
    from web_helpers import serve

    from monitor.store import migrate, open_store

    store = open_store(f"sqlite:///{tmp_path / 'web.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    try:
        with FaultServer() as site, serve(store, _config(store)) as served:
            site.route("/app", Reply.page(VUE))
            editor = served.user("dana", "editor")
            shown = editor.submit("/sources/preview", {"url": site.url("/app")}, "/sources")
    finally:
        store.engine.dispose()
    assert _error(shown.text) == (
        f"{site.url('/app')} looks like a JavaScript application (an empty &lt;div "
        'id=&#34;app&#34;&gt; and 2 scripts, no text): add it with the box “Read it in a '
        "browser” to read it in a browser")


def test_a_custom_element_s_name_is_said_printable_and_short() -> None:
    name = "my-app\x1b[31m" + "-x" * 60
    shell = page_shell(f"<html><body><{name}></{name}><script src=a.js></script>".encode())
    assert shell is not None and len(shell.mounts) == 1
    assert "\x1b" not in shell.said() and len(shell.mounts[0]) <= 42
    assert shell.said().startswith("an empty <my-app[31m-x")
