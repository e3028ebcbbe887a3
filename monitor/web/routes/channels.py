"""Alert channels: what each configured channel sends where, for whom and when (never
a secret: see Channel.shown), and a button that sends it the sample alert, as
`monitor alerts test` does (monitor.alerts.trial)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from monitor.alerts.channels import Route
from monitor.alerts.channels import routes as configured_routes
from monitor.alerts.trial import send_test
from monitor.errors import ConfigError, MonitorError
from monitor.web.auth import Editor, Viewer
from monitor.web.context import web
from monitor.web.durations import short_duration
from monitor.web.templating import gettext, render


def routes(app: FastAPI) -> None:
    @app.get("/channels", name="channels", include_in_schema=False)
    async def channels_page(request: Request, user: Viewer) -> Response:
        return _page(request)

    @app.post("/channels/{name}/test", name="test_channel", include_in_schema=False)
    async def test_channel(request: Request, user: Editor, name: str) -> Response:
        config = web(request).config
        try:
            known = configured_routes(config)
        except ConfigError as exc:
            return _page(request, status=400, problem=str(exc))
        if name not in known:
            raise HTTPException(404, gettext("No alert channel is named %(name)s.", name=name))
        try:
            sent = await run_in_threadpool(send_test, config, name)
        except MonitorError as exc:  # scrubbed of the channel's secrets by send_test
            return _page(request, status=502, tested=(name, False, str(exc)))
        said = gettext("Sample alert delivered: %(detail)s (alert id %(id)s).",
                       detail=sent.detail, id=sent.alert_id)
        return _page(request, tested=(name, True, said))


def _page(request: Request, status: int = 200, problem: str | None = None,
          tested: tuple[str, bool, str] | None = None) -> Response:
    channels: list[Route] = []
    if problem is None:
        try:
            channels = list(configured_routes(web(request).config).values())
        except ConfigError as exc:  # shown on the page: the daemon refuses to start on it too
            problem = str(exc)
    return render(request, "channels.html", status=status, channels=channels, problem=problem,
                  tested=tested, duration=short_duration)
