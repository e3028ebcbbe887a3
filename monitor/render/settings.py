"""The `[render]` table of monitor.toml, checked, every problem naming file and key.

    [render]
    executable = "/usr/bin/chromium"  # Debian's chromium; never a downloaded build
    max_browsers = 1        # browser processes per monitor process
    recycle_after = 100     # pages; then the browser is closed and started afresh
    wait = "network"        # or a CSS selector the page's text is in
    timeout = "30s"         # one page load, at most (and never past [fetch] deadline)
    third_party = false     # requests to other sites than the page's are refused
    viewport = "1280x800"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.validation import mask_problems, parse_duration

KEYS = frozenset({"executable", "max_browsers", "recycle_after", "wait", "timeout",
                  "third_party", "viewport"})
MAX_BROWSERS = 16  # each is a few hundred MB; more is a typo
MAX_TIMEOUT = 600.0


@dataclass(frozen=True)
class RenderSettings:
    executable: str = "/usr/bin/chromium"
    max_browsers: int = 1
    recycle_after: int = 100
    wait: str = "network"  # "network", or a CSS selector
    timeout: float = 30.0
    third_party: bool = False
    viewport: tuple[int, int] = (1280, 800)


def render_settings(config: Config) -> RenderSettings:
    """The checked settings of `config`'s [render] table (defaults when absent)."""
    raw: dict[str, Any] = config.render
    where = str(config.path) if config.path else "configuration"

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: render.{key}: {problem}")

    for key in raw:
        if key not in KEYS:
            raise fail(key, f"unknown key (known: {', '.join(sorted(KEYS))})")
    executable = raw.get("executable", RenderSettings.executable)
    if not isinstance(executable, str) or not executable.startswith("/"):
        raise fail("executable", "must be the absolute path of a chromium executable "
                   "(e.g. /usr/bin/chromium)")
    counts = {}
    for key, top in (("max_browsers", MAX_BROWSERS), ("recycle_after", 1_000_000)):
        value = raw.get(key, getattr(RenderSettings, key))
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise fail(key, f"must be a whole number from 1 to {top}")
        counts[key] = value
    wait = raw.get("wait", "network")
    if not isinstance(wait, str) or not wait.strip():
        raise fail("wait", "must be \"network\" or a CSS selector")
    if wait != "network" and (problems := mask_problems(wait, ())):
        raise fail("wait", problems[0][1])
    try:
        timeout = parse_duration(raw.get("timeout", "30s"))
    except ValueError as exc:
        raise fail("timeout", str(exc)) from None
    if not 0 < timeout <= MAX_TIMEOUT:
        raise fail("timeout", f"must be more than 0s and at most {MAX_TIMEOUT / 60:g}m")
    third_party = raw.get("third_party", False)
    if not isinstance(third_party, bool):
        raise fail("third_party", "must be true or false")
    viewport = raw.get("viewport", "1280x800")
    match = re.fullmatch(r"(\d{3,4})x(\d{3,5})", viewport) if isinstance(viewport, str) else None
    if match is None or not (200 <= int(match[1]) <= 4000 and 200 <= int(match[2]) <= 10000):
        raise fail("viewport", f"{viewport!r}: must be WIDTHxHEIGHT in pixels, e.g. 1280x800 "
                   "(width 200 to 4000, height 200 to 10000)")
    return RenderSettings(executable=executable, wait=wait.strip(), timeout=timeout,
                          third_party=third_party,
                          viewport=(int(match[1]), int(match[2])), **counts)
