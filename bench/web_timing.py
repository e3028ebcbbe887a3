"""Timing pages over loopback: the server's time per page as a client sees it (wall
time from sending the request to the last byte of the answer, on a kept-alive
connection), median and 95th percentile after a warm-up, and the app's own figure
from its `Server-Timing: app;dur=…` header when it sends one.

Standard library and requests only: the changedetection.io run imports this module
too, with that project's interpreter (bench/web_peer_run.py).
"""

from __future__ import annotations

import math
import re
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests

WARM_UP = 3
REQUESTS = 25
_APP = re.compile(r"(?:^|,)\s*app;(?:[^,]*;)?\s*dur=([0-9.]+)")


@dataclass(frozen=True)
class Timed:
    label: str
    path: str
    status: int | None = None  # of the first answer
    requests: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    app_median_ms: float | None = None  # from Server-Timing, when the server sends it
    app_p95_ms: float | None = None
    bytes: int = 0  # of the last answer's body
    note: str = ""  # why there is no figure ("route not present", "HTTP 500")

    @property
    def measured(self) -> bool:
        return self.median_ms is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 25 values is the 24th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def app_time(headers: Any) -> float | None:
    found = _APP.search(headers.get("server-timing", ""))
    return float(found.group(1)) if found else None


def time_page(session: requests.Session, base: str, label: str, path: str, *,
              requests_count: int = REQUESTS, warm_up: int = WARM_UP,
              timeout: float = 120.0) -> Timed:
    """GET `path` warm_up times, then requests_count times, timed one after another."""
    first = session.get(base + path, timeout=timeout)
    if first.status_code != 200:
        return Timed(label, path, first.status_code, 1, bytes=len(first.content),
                     note=f"HTTP {first.status_code}")
    for _ in range(max(0, warm_up - 1)):
        _ = session.get(base + path, timeout=timeout).content
    walls: list[float] = []
    apps: list[float] = []
    size = 0
    for _ in range(requests_count):
        started = time.perf_counter()
        answer = session.get(base + path, timeout=timeout)
        body = answer.content
        walls.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            return Timed(label, path, answer.status_code, len(walls),
                         note=f"HTTP {answer.status_code} on a later request")
        size = len(body)
        if (took := app_time(answer.headers)) is not None:
            apps.append(took)
    return Timed(label, path, first.status_code, len(walls), statistics.median(walls),
                 percentile(walls, 0.95), statistics.median(apps) if apps else None,
                 percentile(apps, 0.95) if apps else None, size)
