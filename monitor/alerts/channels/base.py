"""What every alert channel is: a kind name, settings read at start-up, `send`."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from monitor.alerts.alert import Alert
from monitor.alerts.digest import Digest
from monitor.alerts.settings import Settings
from monitor.errors import MonitorError
from monitor.i18n import Reader

if TYPE_CHECKING:
    from monitor.store import EventStore


class DeliveryFailed(MonitorError):
    """A try to deliver an alert failed. `permanent`: trying again cannot help
    (the receiver said no for good), so the delivery is dead-lettered at once."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the receiver asked us to wait


@dataclass(frozen=True)
class Shown:
    """One setting of a channel as people may see it (the web app's channel list).
    Never a secret: a secret is named by the environment variable it is read from
    (`value`), with whether that variable holds one (`is_set`), never its value."""

    key: str  # the monitor.toml key
    value: str
    is_set: bool | None = None  # a secret's variable: set or not; None: not a secret

    @classmethod
    def secret(cls, key: str, env_name: str | None) -> Shown:
        return cls(key, env_name or "", bool(env_name and os.environ.get(env_name)))


def redacted_url(url: str) -> str:
    """A URL as messages and pages show it: scheme, host and port, and '/…' for
    anything after (receivers often take a token in the path: /hooks/T0K3N)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return url.split(":", 1)[0] + "://…"
    rest = "/…" if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{rest}"


class Channel(ABC):
    """Subclasses declare `kind` (the word `kind = "..."` in monitor.toml picks)
    and a docstring, which is the kind's help text. `__init__` reads and checks
    the kind's own keys; secrets named by `*_env` keys are read at send time."""

    kind: ClassVar[str]
    reader: Reader = Reader()  # the channel's language and timezone (set by `routes`)

    def __init__(self, settings: Settings) -> None:
        self.name = settings.name
        self.where = f"{settings.where}: alerts[{settings.index}] ({settings.name})"

    def attach(self, store: EventStore) -> None:
        """The dispatcher's store, given before any `send`: a channel that records
        what it did in the log (the `wayback` channel) keeps it; others need nothing."""
        return None

    def scrub(self, message: str) -> str:
        """`message` about this channel with its secrets taken out (e.g. a token in
        its URL): what reaches the outbox, the log and the terminal."""
        return message

    @property
    def target(self) -> str:
        """Where the channel sends, as people may see it (no secret in it)."""
        return ""

    def shown(self) -> list[Shown]:
        """The channel's own settings as people may see them: no secret's value,
        no token a URL carries."""
        return []

    @abstractmethod
    def send(self, alert: Alert) -> str:
        """Deliver one alert; return what happened in a few words (e.g. "HTTP 204").
        Raises DeliveryFailed, or ConfigError when a secret is missing."""

    def send_digest(self, digest: Digest) -> str:
        """Deliver a digest (every alert of a period) as ONE message. A kind that
        cannot is refused for good, so its digests are dead-lettered, not retried."""
        raise DeliveryFailed(f"a {self.kind} channel cannot send digests", permanent=True)
