"""Keys every channel takes: what it wants to hear about, and how hard it tries.

Filters (an alert must pass all three):
  sources           globs on the source name (fnmatch), default every source
  min_significance  low | medium | high (default low); published documents
                    are medium, removed documents and failing sources high
  events            any of changed, reverted, published, removed, failing
                    (default all), and checkpoint (signed log checkpoints: only
                    when listed)
Timing:
  failing_after     how long a source must have been failing before a
                    `failing` alert (default 6h; one alert per failure streak)
  max_attempts      tries before a delivery is dead-lettered (default 8)
  retry_base        wait after the first failed try (default 1m); it doubles
                    with each try, with jitter, up to
  retry_max         (default 4h)
Confirmation (monitor.confirm, monitor.alerts.confirmation):
  confirm           hold a change this long (0, or 1s to 1d) for the page to be
                    read again before it alerts (default 0: at once)
  reverted          alert | drop: a change undone within the delay (A→B→A)
                    sends one `reverted` alert, or none (default alert, or drop
                    when `events` leaves out reverted)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.alerts.settings import Settings
from monitor.config import Config, parse_duration
from monitor.validation import parse_confirm

LEVELS = ("low", "medium", "high")
EVENT_KINDS = ("changed", "reverted", "published", "removed", "failing")
OPT_IN_KINDS = ("checkpoint",)  # not about a source: no source or significance filter
REVERTED = ("alert", "drop")
DEFAULT_FAILING_AFTER = 6 * 3600.0
DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Policy:
    sources: tuple[str, ...] = ("*",)
    min_significance: str = "low"
    events: tuple[str, ...] = EVENT_KINDS
    failing_after: float = DEFAULT_FAILING_AFTER
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_base: float = 60.0
    retry_max: float = 4 * 3600.0
    confirm: float = 0.0
    reverted: str = "alert"

    def wants(self, kind: str, source: str, significance: str) -> bool:
        if kind in OPT_IN_KINDS:
            return kind in self.events
        return (
            kind in self.events
            and _level(significance) >= _level(self.min_significance)
            and any(fnmatch.fnmatchcase(source, glob) for glob in self.sources)
        )

    def retry_delay(self, attempt: int, rand: Callable[[], float]) -> float:
        """Seconds to wait after the `attempt`-th failed try (1-based): the
        exponential step, capped, of which half is kept and half is random, so
        dispatchers that failed together do not all come back at once."""
        step = min(self.retry_max, self.retry_base * 2.0 ** min(attempt - 1, 60))
        return step / 2 + rand() * step / 2

    @classmethod
    def read(cls, settings: Settings, default_failing_after: float) -> Policy:
        return cls(
            sources=settings.texts("sources", ("*",)),
            min_significance=settings.choice("min_significance", LEVELS, "low"),
            events=(settings.choices("events", EVENT_KINDS + OPT_IN_KINDS)
                    if settings.raw("events") is not None else EVENT_KINDS),
            failing_after=settings.duration("failing_after", default_failing_after),
            max_attempts=settings.integer("max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 100),
            retry_base=settings.duration("retry_base", 60.0),
            retry_max=settings.duration("retry_max", 4 * 3600.0),
            **confirm_keys(settings),
        )


def confirm_keys(settings: Settings) -> dict[str, Any]:
    """`confirm` and `reverted`, checked against `events`."""
    events = settings.choices("events", EVENT_KINDS + OPT_IN_KINDS)
    if settings.raw("events") is not None and not events:
        raise settings.fail("events", "lists nothing: the channel would never send (leave "
                            "`events` out for every kind)")
    if "reverted" in events and "changed" not in events:
        raise settings.fail("events", '"reverted" without "changed": a reverted alert is a '
                            "change held for its re-check, so the channel would never send it")
    confirm = settings.duration("confirm", 0.0)
    try:
        parse_confirm(confirm)
    except ValueError as exc:
        raise settings.fail("confirm", str(exc)) from None
    reverted = settings.choice("reverted", REVERTED,
                               "alert" if "reverted" in events else "drop")
    if reverted == "alert" and "reverted" not in events:
        raise settings.fail("reverted", '"alert", but `events` leaves out reverted')
    return {"confirm": confirm, "reverted": reverted}


def earliest_failing_alert(config: Config) -> float | None:
    """The shortest `failing_after` (seconds) of the channels that alert on failing
    sources; None without one. Read leniently, without building the channels: the
    checker only needs to know when a failure must be recorded to carry an alert."""
    found: list[float] = []
    for alert in config.alerts:
        events = alert.settings.get("events", EVENT_KINDS)
        if "failing" not in (events if isinstance(events, list | tuple) else (events,)):
            continue
        try:
            found.append(parse_duration(alert.settings.get("failing_after",
                                                           DEFAULT_FAILING_AFTER)))
        except ValueError:
            found.append(DEFAULT_FAILING_AFTER)  # the dispatcher reports the bad value
    return min(found, default=None)


def _level(significance: str) -> int:
    # "none" ranks with low; a level this code does not know passes every filter,
    # because a missed change is worse than an extra alert.
    if significance == "none":
        return 0
    return LEVELS.index(significance) if significance in LEVELS else len(LEVELS)
