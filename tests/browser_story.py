"""One store for the browser flows, served once per test module: the document's twelve
days (document_story.py), a source whose title, text and raw capture are hostile, a
gov.kz replica page already checked once by the real Checker (edited later, live), two
sources the refused POSTs aim at, a viewer and an editor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from document_story import capture, edit, record_document_story, register
from web_helpers import PASSWORD, Served, serve

from monitor.catalog import register as register_source
from monitor.check import Checker
from monitor.config import Config, FetchConfig, SourceConfig
from monitor.document import Document
from monitor.replica import GovkzReplica
from monitor.runner import build_checker
from monitor.web.accounts.users import add_user

FAST = FetchConfig(timeout=3.0, connect_timeout=1.0, retries=0, backoff=0.0,
                   min_delay_per_host=0.0, deadline=10.0, allow_private_networks=True)

VIEWER, EDITOR = "vera", "edna"
HOSTILE_NAME = "hostile"
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
H1 = Document(HOSTILE, "2026-01-05", (f"The minister said {HOSTILE} twice.",
                                      "The fund holds 300 tenge."))
H2 = Document(HOSTILE, "2026-01-05", (f"The minister said {HOSTILE} twice.",
                                      "The fund holds 900 tenge.",
                                      f"A new paragraph: {HOSTILE}"))
# The raw capture of H2: were its script to run, the frame's title, its heading and
# the app's window would say so.
CAPTURED_TITLE = "captured page"
RAW = (b"<!doctype html><html><head><title>" + CAPTURED_TITLE.encode() + b"</title></head>"
       b'<body><h1 id="said">no script ran</h1>'
       b'<script>document.title="script ran";'
       b'document.getElementById("said").textContent="script ran";'
       b"try { parent.__pwned = 3; } catch (e) {}</script>"
       b'<img src=x onerror="parent.__pwned = 4"></body></html>')

LIVE_NAME, LIVE_ID = "live-press", 5151
LIVE_PARAGRAPHS = ["The hearing took 3 hours.", "Deputies asked 17 questions."]
PAUSE_TARGETS = ("csrf-target", "viewer-target")


@dataclass
class BrowserStory:
    served: Served
    replica: GovkzReplica
    checker: Checker


@contextmanager
def browser_story(folder: Path) -> Iterator[BrowserStory]:
    story = record_document_story(folder)
    store = story.store
    register(store, HOSTILE_NAME, "https://example.org/hostile")
    capture(store, H1, name=HOSTILE_NAME)
    edit(store, H1, H2, raw=RAW, name=HOSTILE_NAME)
    for name in PAUSE_TARGETS:
        register(store, name, f"https://example.org/{name}")
    for name, role in ((VIEWER, "viewer"), (EDITOR, "editor")):
        add_user(store.engine, name, role, PASSWORD)
    config = Config(path=None, database_url=str(store.engine.url), fetch=FAST)
    with GovkzReplica() as replica:
        url = replica.add_article("mfa", LIVE_ID, title="Budget hearing in the Mazhilis",
                                  paragraphs=LIVE_PARAGRAPHS,
                                  created_date="2026-02-03T10:00:00.000+05:00")
        register_source(store, SourceConfig(name=LIVE_NAME, url=url, kind="govkz",
                                            interval_seconds=900))
        checker = build_checker(config, store)
        try:
            assert checker.check(LIVE_NAME).outcome == "captured"
            with serve(store, config) as served:
                yield BrowserStory(served, replica, checker)
        finally:
            checker.fetcher.close()
            store.engine.dispose()

