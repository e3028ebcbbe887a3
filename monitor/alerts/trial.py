"""A sample alert sent through one configured channel, to see that it works:
`monitor alerts test NAME` and the web app's test button. Nothing is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.alerts.channels import DeliveryFailed, routes
from monitor.alerts.sample import sample_alert
from monitor.config import Config
from monitor.errors import UsageError


@dataclass(frozen=True)
class SampleSent:
    channel: str
    kind: str
    detail: str  # what the channel said happened, e.g. "HTTP 204"
    alert_id: str


def send_test(config: Config, name: str) -> SampleSent:
    """Sends the sample alert through channel `name`. UsageError for an unknown
    channel, ConfigError for a bad setting or a missing secret, DeliveryFailed (its
    message scrubbed of the channel's secrets) when the channel could not deliver."""
    configured = routes(config)
    if name not in configured:
        known = ", ".join(configured) or "none configured"
        raise UsageError(f"no alert channel named {name!r} (channels: {known})")
    alert = sample_alert(config.public_url)
    channel = configured[name].channel
    try:
        detail = channel.send(alert)
    except DeliveryFailed as exc:
        raise DeliveryFailed(f"test alert through {name} ({channel.kind}) failed: "
                             f"{channel.scrub(str(exc))}") from None
    return SampleSent(name, channel.kind, detail, alert.id)
