"""Alert channels, registered by kind name: an alert's `kind = "webhook"` picks one.

A new kind is one new module in this package holding a `Channel` subclass that
declares `kind`; its docstring is its help text. Nothing else changes.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from monitor.alerts import audience, policy
from monitor.alerts.audience import Audience
from monitor.alerts.channels.base import Channel, DeliveryFailed
from monitor.alerts.policy import DEFAULT_FAILING_AFTER, Policy
from monitor.alerts.settings import Settings
from monitor.config import Config
from monitor.registry import discover_kinds
from monitor.validation import name_problem

__all__ = ["Channel", "DeliveryFailed", "Route", "kinds", "kinds_help", "route", "routes"]


@dataclass(frozen=True)
class Route:
    """A configured channel: its name, what it wants to hear, how it sends."""

    name: str
    policy: Policy
    channel: Channel
    audience: Audience = field(default_factory=Audience)  # language, timezone, digest


@cache
def kinds() -> Mapping[str, type[Channel]]:
    return discover_kinds(__name__, __path__, Channel)  # type: ignore[type-abstract]


def kinds_help() -> str:
    """Every channel kind and its settings, from the classes' docstrings."""
    common = "\n\n".join(inspect.cleandoc(m.__doc__ or "") for m in (policy, audience))
    blocks = [f"every kind\n{textwrap.indent(common, '    ')}"]
    for kind, cls in kinds().items():
        doc = inspect.cleandoc(cls.__doc__ or "(no description)")
        blocks.append(f"{kind}\n{textwrap.indent(doc, '    ')}")
    return "\n\n".join(blocks)


def routes(config: Config) -> dict[str, Route]:
    """Every configured channel, checked: a bad setting is a ConfigError naming
    the file and the key."""
    result: dict[str, Route] = {}
    for index, alert in enumerate(config.alerts):
        settings = Settings(alert, index, config.path)
        if alert.name in result:
            raise settings.fail("name", f"{alert.name!r} is used by another channel")
        result[alert.name] = route(settings, config)
    return result


def route(settings: Settings, config: Config) -> Route:
    """One channel built from its table, every key checked (`routes`, and
    `monitor alerts add` before it writes a table)."""
    alert = settings.alert
    if problem := name_problem(alert.name):
        raise settings.fail("name", problem)
    cls = kinds().get(alert.kind)
    if cls is None:
        raise settings.fail("kind", f"unknown kind {alert.kind!r} (known: {', '.join(kinds())})")
    policy = Policy.read(settings, _default_failing_after(config))
    readers = Audience.read(settings, config)
    channel = cls(settings)
    channel.reader = readers.reader
    settings.check_known()
    return Route(alert.name, policy, channel, readers)


def _default_failing_after(config: Config) -> float:
    # A top-level `failing_after` in monitor.toml, once monitor.config reads one.
    value: Any = getattr(config, "failing_after", None)
    return float(value) if isinstance(value, int | float) else DEFAULT_FAILING_AFTER
