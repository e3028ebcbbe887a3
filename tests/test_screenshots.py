"""A version's screenshot, read back everywhere it is shown or handed on: `show
--screenshot`, `history`, the web app's capture view and its PNG route, e-mail alerts
(`attach_screenshot`), evidence bundles and `verify`. The versions are real events with
real PNG blobs (Pillow) appended through the EventStore, as the check records them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from browser import chromium, page  # noqa: F401  (fixtures)
from cli_helpers import Result, child_environment, monitor
from PIL import Image
from screenshot_story import NAME, ShotStory, png, record_shots
from sqlalchemy import delete, update
from web_helpers import PASSWORD, Client, serve

from monitor.alerts.attachment import MAX_BYTES
from monitor.alerts.dispatcher import Dispatcher
from monitor.config import AlertConfig, Config
from monitor.evidence.bundle.check import check_bundle
from monitor.evidence.bundle.export import export_bundle
from monitor.evidence.bundle.layout import manifest
from monitor.evidence.keys import create_key
from monitor.evidence.settings import EvidenceSettings
from monitor.replica.smtp_sink import SmtpSink
from monitor.screenshots import version_screenshot, versions_with_screenshots
from monitor.store import EventStore, migrate, open_store
from monitor.store.schema import blobs
from monitor.store.snapshots import Blob, put_blobs


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EventStore, ShotStory]]:
    folder = tmp_path_factory.mktemp("shots")
    store = open_store(f"sqlite:///{folder / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store, record_shots(store)
    store.engine.dispose()


def cli(store: EventStore, cwd: Path, *args: str) -> Result:
    return monitor(*args, cwd=cwd, env={"MONITOR_DATABASE_URL": str(store.engine.url)})


# --- reading ---------------------------------------------------------------------------
def test_a_version_screenshot_is_read_verified_with_its_layout_and_stored_once(
        store: EventStore) -> None:
    story = record_shots(store)
    shot = version_screenshot(store.engine, NAME, 2)
    assert shot is not None and shot.png == story.png
    assert shot.sha256 == hashlib.sha256(story.png).hexdigest()
    assert (shot.width, shot.height) == (64, 48)
    assert shot.layout is not None and shot.layout["blocks"][0]["box"] == [4, 4, 40, 12]
    assert version_screenshot(store.engine, NAME, 1) is None  # the baseline has none
    assert versions_with_screenshots(store.engine, NAME) == {2: shot.sha256, 3: shot.sha256}
    assert version_screenshot(store.engine, NAME, 3).layout is None  # none recorded for v3
    with store.engine.connect() as conn:  # v2 and v3 show the same PNG: one blob
        count = conn.execute(blobs.select().where(blobs.c.sha256 == shot.sha256)).all()
    assert len(count) == 1


# --- the command line ------------------------------------------------------------------
def test_show_screenshot_writes_the_png_byte_for_byte_and_history_marks_versions(
        shots: tuple[EventStore, ShotStory], tmp_path: Path) -> None:
    store, story = shots
    target = tmp_path / "v2.png"
    written = cli(store, tmp_path, "show", f"{NAME}@2", "--screenshot", str(target))
    assert written.code == 0, written.err
    assert target.read_bytes() == story.png
    described = cli(store, tmp_path, "show", f"{NAME}@3", "--screenshot", str(target),
                    "--format", "json").json()
    assert described["sha256"] == hashlib.sha256(story.png).hexdigest()
    assert described["size"] == len(story.png)

    none = cli(store, tmp_path, "show", f"{NAME}@1", "--screenshot", str(tmp_path / "x.png"))
    assert none.code == 2 and not (tmp_path / "x.png").exists()
    assert none.err.strip() == (f"error: {NAME}@1 has no screenshot; versions with one: "
                                "2 and 3")

    history = cli(store, tmp_path, "history", NAME)
    marked = [line.split()[0] for line in history.out.splitlines() if "[screenshot]" in line]
    assert marked == ["v2", "v3"]
    listed = cli(store, tmp_path, "history", NAME, "--format", "json").json()["versions"]
    assert [v["screenshot"] is not None for v in listed] == [False, True, True]


def test_show_screenshot_refuses_a_terminal_and_the_store_file(
        shots: tuple[EventStore, ShotStory], tmp_path: Path) -> None:
    store, _ = shots
    primary, secondary = pty.openpty()
    env = {**child_environment(), "MONITOR_DATABASE_URL": str(store.engine.url)}
    done = subprocess.run([sys.executable, "-m", "monitor", "show", f"{NAME}@2",
                           "--screenshot", "-"], stdout=secondary, stderr=subprocess.PIPE,
                          env=env, cwd=tmp_path, timeout=60)
    os.close(secondary)
    os.close(primary)
    assert done.returncode == 2
    assert b"standard output is a terminal" in done.stderr
    database = str(store.engine.url.database)
    refused = cli(store, tmp_path, "show", f"{NAME}@2", "--screenshot", database)
    assert refused.code == 2 and "is the store's database" in refused.err


# --- the web app -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def viewer(shots: tuple[EventStore, ShotStory]) -> Iterator[Client]:
    with serve(shots[0]) as served:
        yield served.user("vera", "viewer")


def test_the_capture_view_shows_the_screenshot_and_the_route_serves_it_strictly(
        shots: tuple[EventStore, ShotStory], viewer: Client) -> None:
    _, story = shots
    shown = viewer.get(f"/sources/{NAME}/versions/2/capture")
    assert shown.status_code == 200
    image = lxml.html.fromstring(shown.text).get_element_by_id("screenshot").find(".//img")
    assert image.get("src") == f"/sources/{NAME}/versions/2/screenshot.png"
    served = viewer.get(image.get("src"))
    assert served.status_code == 200 and served.content == story.png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert "sandbox" in served.headers["content-security-policy"]

    for language, said in (("ru", "Снимок экрана версии 2"), ("kk", "2-нұсқаның скриншоты")):
        translated = viewer.get(f"/sources/{NAME}/versions/2/capture",
                                headers={"Accept-Language": language}).text
        assert f'alt="{said}"' in translated
    for path in (f"/sources/{NAME}", f"/sources/{NAME}/versions/3"):  # they link to it
        assert f"/sources/{NAME}/versions/3/capture#screenshot" in viewer.get(path).text
    listed = viewer.get(f"/api/v1/sources/{NAME}/versions").json()["items"]
    assert [v["screenshot_hash"] for v in listed] == [None, *[hashlib.sha256(story.png)
                                                              .hexdigest()] * 2]
    assert viewer.get(f"/sources/{NAME}/versions/1/screenshot.png").status_code == 404
    assert 'id="screenshot"' not in viewer.get(f"/sources/{NAME}/versions/1/capture").text
    anonymous = Client(viewer.base).get(f"/sources/{NAME}/versions/2/screenshot.png",
                                        allow_redirects=False)
    assert anonymous.status_code in (303, 401) and anonymous.content != story.png


def test_a_screenshot_whose_bytes_are_not_a_png_is_not_served(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    record_shots(store, image=b"<html><script>alert(1)</script></html>")
    with serve(store) as served:
        viewer = served.user("vera", "viewer")
        answer = viewer.get(f"/sources/{NAME}/versions/2/screenshot.png")
        assert answer.status_code == 404
        assert "is not a PNG image" in answer.text and "<script>alert" not in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    store.engine.dispose()


# --- e-mail ----------------------------------------------------------------------------
def mail(name: str, sink: SmtpSink, **settings: Any) -> AlertConfig:
    return AlertConfig(name, "email", {
        "host": "127.0.0.1", "port": sink.port, "security": "none",
        "from": "monitor@example.org", "to": "desk@example.org", "timeout": "5s", **settings})


def mail_config(*channels: AlertConfig) -> Config:
    return Config(path=None, database_url="", alerts=channels)


def test_an_email_alert_carries_the_screenshot_only_when_its_channel_asks(
        store: EventStore) -> None:
    story = record_shots(store)
    with SmtpSink() as plain, SmtpSink() as asking:
        config = mail_config(mail("plain", plain), mail("asking", asking,
                                                       attach_screenshot=True))
        assert Dispatcher(store, config).run_once().delivered == 4
    assert all(not list(m.iter_attachments()) for m in plain.messages)
    names = []
    for message in asking.messages:
        (attached,) = list(message.iter_attachments())
        assert attached.get_content_type() == "image/png"
        names.append(attached.get_filename())
        assert attached.get_content() == story.png
        assert message.get_body(("plain",)) is not None  # the alert's text is still there
    assert sorted(names) == [f"{NAME}-v2.png", f"{NAME}-v3.png"]  # each alert its own version


def test_a_screenshot_over_the_cap_is_left_out_and_the_text_says_how_to_get_it(
        tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    big = png() + b"\0" * MAX_BYTES  # still PNG-headed, past the cap
    record_shots(store, image=big)
    with SmtpSink() as sink:
        config = mail_config(mail("mail", sink, attach_screenshot=True))
        assert Dispatcher(store, config).run_once().delivered == 2
    for message in sink.messages:
        assert not list(message.iter_attachments())
        text = message.get_body(("plain",)).get_content()
        assert "larger than the 5 MB an e-mail carries" in text
        assert f"monitor show {NAME}@" in text and "--screenshot" in text
    store.engine.dispose()


@pytest.mark.parametrize("harm", ["lost", "not a png"])
def test_a_screenshot_that_cannot_go_leaves_the_alert_to_go_without_it(
        tmp_path: Path, harm: str) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    image = png() if harm == "lost" else b"GIF89a not a png"
    record_shots(store, image=image)
    if harm == "lost":
        with store.engine.begin() as conn:
            conn.execute(delete(blobs).where(blobs.c.sha256 == Blob.raw(image).sha256))
    with SmtpSink() as sink:
        config = mail_config(mail("mail", sink, attach_screenshot=True))
        assert Dispatcher(store, config).run_once().delivered == 2
    said = {"lost": "could not be read from the store (`monitor verify` says why)",
            "not a png": "is not a PNG image, so it is not attached"}[harm]
    for message in sink.messages:
        assert not list(message.iter_attachments())
        assert said in message.get_body(("plain",)).get_content()
        assert said in message.get_body(("html",)).get_content()
    store.engine.dispose()


def test_attach_screenshot_must_be_true_or_false(tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text(
        '[[alerts]]\nname = "mail"\nkind = "email"\nhost = "127.0.0.1"\n'
        'from = "m@example.org"\nto = "d@example.org"\nattach_screenshot = "yes"\n')
    result = monitor("alerts", "list", cwd=tmp_path)
    assert result.code == 2
    assert "alerts[0].attach_screenshot: must be true or false" in result.err
    (tmp_path / "monitor.toml").write_text("")
    added = monitor("alerts", "add", "email", "desk", "--host", "127.0.0.1", "--from",
                    "m@example.org", "--to", "d@example.org", "--attach-screenshot",
                    cwd=tmp_path)
    assert added.code == 0, added.err
    assert "attach_screenshot = true" in (tmp_path / "monitor.toml").read_text()


# --- evidence bundles ------------------------------------------------------------------
def test_a_bundle_carries_each_screenshot_and_names_a_tampered_one(
        shots: tuple[EventStore, ShotStory], tmp_path: Path) -> None:
    store, story = shots
    settings = EvidenceSettings(key_file=tmp_path / "keys" / "checkpoint.ed25519",
                                witness_file=tmp_path / "witness.jsonl")
    create_key(settings.key_file)
    bundle = tmp_path / "b.zip"
    export_bundle(store, settings, NAME, None, None, bundle)
    with zipfile.ZipFile(bundle) as z:
        packed = {name: z.read(name) for name in z.namelist()}
    assert packed["screenshots/2.png"] == story.png == packed["screenshots/3.png"]
    assert packed["screenshots/2.layout.json"] == story.layout
    assert "screenshots/1.png" not in packed
    digest = hashlib.sha256(story.png).hexdigest()
    assert f"{digest}  screenshots/2.png" in packed["SHA256SUMS"].decode()
    checked = verify_bundle(bundle, tmp_path)
    assert checked.code == 0, checked.out
    assert "2 screenshots match the hashes their events name" in checked.out

    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(tampered, "w") as z:
        for name, body in packed.items():
            z.writestr(name, png(words="999") if name == "screenshots/3.png" else body)
    failed = verify_bundle(tampered, tmp_path)
    assert failed.code == 1
    assert "FAILED: version 3: screenshots/3.png is not the screenshot its event names" \
        in failed.out
    assert check_bundle(tampered).screenshots == 1

    # A v1 bundle (made before screenshots) still checks, and says what it lacks.
    info = json.loads(packed["bundle.json"])
    info["format"] = "govkz-monitor evidence bundle v1"
    older = {n: b for n, b in packed.items() if not n.startswith("screenshots/")}
    older["bundle.json"] = json.dumps(info).encode()
    older["SHA256SUMS"] = manifest({n: b for n, b in older.items() if n != "SHA256SUMS"})
    v1 = tmp_path / "v1.zip"
    with zipfile.ZipFile(v1, "w") as z:
        for name, body in older.items():
            z.writestr(name, body)
    kept = verify_bundle(v1, tmp_path)
    assert kept.code == 0, kept.out
    assert "note: version 2: its event names a screenshot, which a 'govkz-monitor " \
        "evidence bundle v1' bundle does not carry" in kept.out


def verify_bundle(bundle: Path, cwd: Path) -> Result:
    return monitor("verify-bundle", str(bundle), cwd=cwd)


# --- verify ----------------------------------------------------------------------------
def test_verify_names_a_missing_screenshot_blob(store: EventStore, tmp_path: Path) -> None:
    story = record_shots(store)
    url = str(store.engine.url.render_as_string(hide_password=False))
    assert monitor("verify", cwd=tmp_path, env={"MONITOR_DATABASE_URL": url}).code == 0
    gone = Blob.raw(story.png).sha256
    with store.engine.begin() as conn:
        conn.execute(delete(blobs).where(blobs.c.sha256 == gone))
    result = monitor("verify", cwd=tmp_path, env={"MONITOR_DATABASE_URL": url})
    assert result.code != 0
    assert f"screenshot {gone[:12]} is missing from the blobs" in result.out + result.err
    with store.engine.begin() as conn:  # back, but altered: it no longer decodes to its hash
        put_blobs(conn, [Blob.raw(story.png)])
        conn.execute(update(blobs).where(blobs.c.sha256 == gone)
                     .values(body=Blob.raw(png(words="x")).content, codec="zlib"))
    altered = monitor("verify", cwd=tmp_path, env={"MONITOR_DATABASE_URL": url})
    assert altered.code != 0 and f"blob {gone[:12]}" in altered.out + altered.err
    shown = monitor("show", f"{NAME}@2", "--screenshot", str(tmp_path / "s.png"),
                    cwd=tmp_path, env={"MONITOR_DATABASE_URL": url})
    assert shown.code != 0 and not (tmp_path / "s.png").exists()
    assert shown.err.count("\n") == 1 and "does not decode" in shown.err


# --- in a real browser -----------------------------------------------------------------
def test_a_chromium_screenshot_shows_in_the_capture_view_under_the_apps_policy(
        page: Any, tmp_path: Path) -> None:  # noqa: F811
    page.set_content("<h1>Decree 5</h1><p>It gathered 150 participants.</p>")
    taken = page.screenshot(full_page=True)  # what the rendering fetcher stores
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    record_shots(store, image=taken)
    with serve(store) as served:
        served.user("vera", "viewer")
        page.goto(f"{served.url}/login?next=/sources/{NAME}/versions/2/capture")
        page.fill("input[name=name]", "vera")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served.url}/sources/{NAME}/versions/2/capture")
        image = page.locator("#screenshot img")
        image.wait_for()
        page.wait_for_function("document.querySelector('#screenshot img').complete")
        assert image.evaluate("img => img.naturalWidth") == Image.open(
            io.BytesIO(taken)).width
        assert page.script_errors == []  # no policy refused the image
    store.engine.dispose()
