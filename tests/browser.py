"""Debian's chromium, driven by Playwright through its executable path (never a
downloaded browser). Screenshots go to $MONITOR_TEST_ARTIFACTS (default
var/test-artifacts/screenshots), kept after the run for people to look at."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("MONITOR_TEST_ARTIFACTS", REPO / "var" / "test-artifacts"))


def chromium_path() -> str | None:
    found = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1280, "height": 900},  # type: ignore[attr-defined]
                                   locale="en-US", timezone_id="Asia/Almaty")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    # Script exceptions and policy violations; a 401 or 404 the page asked for is not one.
    opened.on("console", lambda msg: errors.append(msg.text)
              if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    opened.script_errors = errors
    try:
        yield opened
    finally:
        context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Saves a full-page screenshot as an artifact and returns its path."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 2_000, f"blank screenshot {target}"
    return target
