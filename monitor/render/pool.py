"""The browsers of one process: at most `[render] max_browsers` chromium processes,
each serving a bounded number of pages at once, each closed and started afresh after
`recycle_after` pages (so a page that leaks cannot grow memory without bound), and
started again when it crashed.

Playwright's objects belong to the thread and event loop that made them. So one
thread of this process owns them all: it runs an asyncio loop, and each checker
thread hands it a page load (`render`) and waits on a future. The async API, not the
sync one, so that one browser serves several pages at once and a page waiting on a
slow server does not hold up the others."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.errors import FetchFailed, MonitorError
from monitor.render.page import Job, Loaded, load
from monitor.render.settings import RenderSettings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

    from monitor.render.fetcher import RenderingFetcher

log = logging.getLogger("monitor.render")

PAGES_PER_BROWSER = 4  # contexts open at once in one browser
RELAY_THREADS = 8  # the page's requests performed at once (monitor.render.policy)
LAUNCH_MS = 30_000  # a browser not started by then will not start
GRACE = 10.0  # seconds a checker waits past a page's own time before giving up on it
# Debian's chromium headless, as the tests run it: no GPU, nothing fetched on its own
# account (updates, sync, safe browsing lists), no first-run dialogs. Playwright gives
# every launch a new empty profile (user-data dir) of its own.
FLAGS = ("--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync",
         "--disable-default-apps", "--disable-extensions",
         # Every request is answered through the routes (monitor.render.policy); whatever
         # the browser would still connect to on its own (a `<link rel=preconnect>` to an
         # internal address, a request no route saw) goes to a proxy that is not there,
         # loopback included, rather than anywhere the address policy did not check.
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>")


class BrowserUnavailable(MonitorError):
    """The browser could not be started (not installed, or it fails at once)."""


@dataclass
class _Browser:
    browser: Browser
    pages: int = 0  # pages started on it
    open: int = 0  # pages loading now
    retiring: bool = False  # closing after its recycle_after pages: counted, not used

    @property
    def usable(self) -> bool:
        return self.browser.is_connected()


class BrowserPool:
    """Renders pages for every thread of the process; `close` when done."""

    def __init__(self, settings: RenderSettings, fetcher: RenderingFetcher) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.launches = 0  # browsers started, recycled ones and restarts included
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._browsers: list[_Browser] = []
        self._slots: asyncio.Semaphore | None = None
        self._launching: asyncio.Lock | None = None
        self._relays = concurrent.futures.ThreadPoolExecutor(
            RELAY_THREADS, thread_name_prefix="render-relay")
        self._pid = os.getpid()

    def render(self, job: Job) -> Loaded:
        """Load `job`'s page (FetchFailed for what the page or its network did;
        BrowserUnavailable when no browser can be started)."""
        future = asyncio.run_coroutine_threadsafe(self._render(job), self._running())
        try:
            return future.result(timeout=max(0.0, job.left()) + GRACE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise FetchFailed("timeout", f"{job.url}: the browser gave no answer within "
                              f"{job.seconds + GRACE:g} s") from None

    def close(self) -> None:
        """Close the browsers and stop the thread (a pool closed is started again by
        the next `render`)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None and os.getpid() == self._pid:
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            except Exception:  # a browser that will not close is killed with the process
                log.warning("the browsers did not close cleanly", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        self._relays.shutdown(wait=False, cancel_futures=True)
        self._relays = concurrent.futures.ThreadPoolExecutor(
            RELAY_THREADS, thread_name_prefix="render-relay")

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="render-browsers",
                                          daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _render(self, job: Job) -> Loaded:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_browsers * PAGES_PER_BROWSER)
            self._launching = asyncio.Lock()
        try:
            await asyncio.wait_for(self._slots.acquire(), max(0.0, job.left()))
        except TimeoutError:
            raise FetchFailed("timeout", f"{job.url}: no browser was free within {job.seconds:g} "
                              f"s ([render] max_browsers = {self.settings.max_browsers}, each "
                              f"loading {PAGES_PER_BROWSER} pages)") from None
        try:
            held = await self._browser()
            held.pages += 1
            held.open += 1
            try:
                return await load(held.browser, job, self.fetcher, self.settings, self._relays)
            finally:
                held.open -= 1
                if held.open == 0 and held.pages >= self.settings.recycle_after:
                    await self._retire(held)
        finally:
            self._slots.release()

    async def _browser(self) -> _Browser:
        """The least busy browser that may take another page; a new one when none may
        and the pool is not full."""
        assert self._launching is not None
        async with self._launching:
            for held in [b for b in self._browsers if not b.usable and not b.retiring]:
                log.warning("the browser crashed or was closed; starting another")
                self._browsers.remove(held)
            takers = [b for b in self._browsers if not b.retiring
                      and b.pages < self.settings.recycle_after and b.open < PAGES_PER_BROWSER]
            if takers and (min(b.open for b in takers) == 0
                           or len(self._browsers) >= self.settings.max_browsers):
                return min(takers, key=lambda b: b.open)
            if len(self._browsers) < self.settings.max_browsers:
                held = _Browser(await self._launch())
                self._browsers.append(held)
                return held
        # Full, and every browser busy or about to be recycled: the slots bound how
        # many pages wait here, so one of them frees soon.
        await asyncio.sleep(0.05)
        return await self._browser()

    async def _launch(self) -> Browser:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        executable = self.settings.executable
        if not os.access(executable, os.X_OK):
            raise BrowserUnavailable(f"no browser at {executable} ([render] executable): "
                                     "install Debian's chromium (apt-get install chromium)")
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        args = [*FLAGS, *(("--no-sandbox",) if os.geteuid() == 0 else ())]
        try:
            browser = await self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=args, timeout=LAUNCH_MS,
                # Debian's chromium answers for itself; Playwright's own flags that
                # would fetch (field trials) are off with --disable-background-networking.
                chromium_sandbox=os.geteuid() != 0)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason given"
            raise BrowserUnavailable(f"the browser {executable} did not start: {first}") from None
        self.launches += 1
        log.info("browser started: %s %s", executable, browser.version)
        return browser

    async def _retire(self, held: _Browser) -> None:
        # Counted until it has closed: its successor starts after, so no more than
        # max_browsers chromium processes are ever alive (a recycled one exiting too).
        held.retiring = True
        try:
            await held.browser.close()
        except Exception:  # already gone
            log.debug("closing a recycled browser failed", exc_info=True)
        finally:
            if held in self._browsers:
                self._browsers.remove(held)

    async def _shutdown(self) -> None:
        browsers, self._browsers = self._browsers, []
        for held in browsers:
            await self._retire(held)
        if self._playwright is not None:
            playwright: Any = self._playwright
            self._playwright = None
            await playwright.stop()
        self._slots = self._launching = None
