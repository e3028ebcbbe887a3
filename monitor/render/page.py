"""One page load in a fresh browser context: every request routed through the request
policy (monitor.render.policy), the wait for the page to settle, then the rendered
DOM, the layout of its text and a full-page screenshot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from monitor.errors import FetchFailed
from monitor.render.layout import LAYOUT_SCRIPT, layout_json, png_size
from monitor.render.policy import Answer, relay, same_site, status_failure
from monitor.render.settings import RenderSettings
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.render.fetcher import RenderingFetcher

log = logging.getLogger("monitor.render")

# A full-page screenshot taller or wider than this is cut here: a page of endless
# scroll would make a PNG of hundreds of megabytes of pixels.
MAX_SCREENSHOT_HEIGHT = 12_000  # 2,000 x 12,000 px: some 100 MB of pixels to encode
MAX_SCREENSHOT_WIDTH = 2_000
_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


@dataclass(frozen=True)
class Job:
    """One page to load: its URL, the seconds it may take, what to wait for, and the
    headers its main document is asked with (a source's HTTP Basic auth)."""

    url: str
    seconds: float  # from when it was asked for: waiting for a browser counts
    wait: str
    headers: dict[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    asked_at: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        """Seconds left of the job's time."""
        return self.asked_at + self.seconds - time.monotonic()


@dataclass(frozen=True)
class Loaded:
    """What one load gave."""

    url: str  # the main document's final URL
    html: str  # doctype + the rendered DOM
    main: Answer  # the main document's HTTP answer, as received
    redirects: tuple[str, ...]
    blocked: int  # requests the policy refused
    browser: str  # the browser's version
    screenshot: bytes | None
    layout: bytes | None


@dataclass
class _State:
    page_host: str
    answers: list[Answer] = field(default_factory=list)
    failure: FetchFailed | None = None
    blocked: int = 0


async def load(browser: Browser, job: Job, fetcher: RenderingFetcher, settings: RenderSettings,
               executor: Executor) -> Loaded:
    loop = asyncio.get_running_loop()
    ends = loop.time() + job.left()
    state = _State(page_host=urlsplit(job.url).hostname or "")

    async def handle(route: Route) -> None:
        request = route.request
        url = request.url
        try:
            main = request.is_navigation_request() and request.frame.parent_frame is None
        except PlaywrightError:  # a worker's request: it has no frame
            main = False
        if not url.startswith(("http://", "https://")) or (
                not main and not settings.third_party and not same_site(url, state.page_host)):
            state.blocked += 1
            await _quietly(route.abort("blockedbyclient"))
            return
        headers = await request.all_headers()
        if main:
            headers.update(job.headers)
            state.page_host = urlsplit(url).hostname or state.page_host
        try:
            answer = await loop.run_in_executor(
                executor, relay, fetcher, request.method, url, headers,
                request.post_data_buffer, ends - loop.time(), main, job.ca_bundle)
        except FetchFailed as exc:
            if exc.kind == "blocked":
                state.blocked += 1
            if main:
                state.failure = exc
            await _quietly(route.abort("blockedbyclient" if exc.kind == "blocked" else "failed"))
            return
        except Exception:  # a bug here must not leave the request unanswered till the deadline
            log.exception("render: the request %s could not be relayed", one_line(url))
            await _quietly(route.abort("failed"))
            return
        if main:
            state.answers.append(answer)
        await _quietly(route.fulfill(status=answer.status, headers=answer.headers,
                                     body=answer.body))

    width, height = settings.viewport
    context = await browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1,
        service_workers="block", accept_downloads=False,
        user_agent=str(fetcher.session.headers["User-Agent"]))
    try:
        await context.route_web_socket("**/*", _refuse_socket)
        await context.route("**/*", handle)
        page = await context.new_page()
        try:
            await _settle(page, job, loop, ends)
        except PlaywrightTimeout:
            raise state.failure or _main_failure(state) or FetchFailed(
                "timeout", _timeout_said(job)) from None
        except PlaywrightError as exc:
            raise state.failure or _main_failure(state) or FetchFailed(
                "connection", f"{job.url}: the browser could not load the page "
                f"({one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)})"
            ) from None
        if (refused := state.failure or _main_failure(state)) is not None:
            raise refused
        if not state.answers:  # pragma: no cover - a loaded page had a main document
            raise FetchFailed("connection", f"{job.url}: the browser showed no page")
        html = await page.content()
        png, layout = await _picture(page, ends - loop.time(), job.url)
        return Loaded(url=state.answers[-1].url, html=html, main=state.answers[-1],
                      redirects=tuple(a.url for a in state.answers[:-1]),
                      blocked=state.blocked, browser=browser.version, screenshot=png,
                      layout=layout)
    except PlaywrightTimeout:
        raise FetchFailed("timeout", _timeout_said(job)) from None
    except PlaywrightError as exc:  # the page went away while it was read (a script left it)
        raise FetchFailed("connection", f"{job.url}: the page could not be read: "
                          f"{one_line(str(exc).splitlines()[0] if str(exc) else '')}") from None
    finally:
        await _quietly(context.close())


async def _settle(page: Any, job: Job, loop: asyncio.AbstractEventLoop, ends: float) -> None:
    """Open the page and wait until it is done: its network quiet (no request for half
    a second), or the `wait` selector in the DOM."""
    ms = max(1.0, (ends - loop.time()) * 1000)
    if job.wait == "network":
        await page.goto(job.url, wait_until="networkidle", timeout=ms)
        return
    await page.goto(job.url, wait_until="domcontentloaded", timeout=ms)
    await page.wait_for_selector(f"css={job.wait}", state="attached",  # CSS, as checked
                                 timeout=max(1.0, (ends - loop.time()) * 1000))


def _main_failure(state: _State) -> FetchFailed | None:
    """The main document's answer as a plain fetch would judge it: a 404 is
    `not_found`, a 500 `server_error`, a PDF is not a page."""
    if not state.answers:
        return None
    answer = state.answers[-1]
    if (failed := status_failure(answer)) is not None:
        return failed
    if answer.content_type not in _HTML_TYPES:
        return FetchFailed("content_type", f"{answer.url} sent {answer.content_type}, "
                           "expected text/html (a rendered source is a web page)",
                           status=answer.status)
    return None


def _timeout_said(job: Job) -> str:
    waited = ("its network to go quiet (no request for half a second)" if job.wait == "network"
              else f"the selector {job.wait!r}")
    return (f"{job.url}: the page was not done within {job.seconds:.3g} s, waiting for "
            f"{waited}; a page that keeps asking for more is read when [render] wait "
            "names the CSS selector its text is in")


async def _picture(page: Any, seconds: float, url: str) -> tuple[bytes | None, bytes | None]:
    """The screenshot and the layout of its text; none when the page's time ran out
    before they were made (the text was read: the picture is not worth failing it)."""
    try:
        blocks = await page.evaluate(LAYOUT_SCRIPT)
        png = await _screenshot(page, seconds)
    except PlaywrightError as exc:
        log.warning("%s: no screenshot (%s)", one_line(url),
                    one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return None, None
    width, height = png_size(png)
    return png, layout_json(blocks, width, height)


async def _screenshot(page: Any, seconds: float) -> bytes:
    size = await page.evaluate("() => [document.documentElement.scrollWidth, "
                               "document.documentElement.scrollHeight]")
    options: dict[str, Any] = {"full_page": True, "type": "png", "animations": "disabled",
                               "caret": "hide", "timeout": max(1000.0, seconds * 1000)}
    if (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) for n in size)
            and (size[0] > MAX_SCREENSHOT_WIDTH or size[1] > MAX_SCREENSHOT_HEIGHT)):
        options["clip"] = {"x": 0, "y": 0, "width": min(size[0], MAX_SCREENSHOT_WIDTH),
                           "height": min(size[1], MAX_SCREENSHOT_HEIGHT)}
    png: bytes = await page.screenshot(**options)
    return png


async def _refuse_socket(socket: WebSocketRoute) -> None:
    """A WebSocket would connect outside the policy (routes see HTTP only): refused."""
    await _quietly(socket.close(code=1008, reason="refused by the monitor"))


async def _quietly(step: Any) -> None:
    """A route answered or a context closed after the page went away is nothing."""
    with contextlib.suppress(PlaywrightError):
        await step
