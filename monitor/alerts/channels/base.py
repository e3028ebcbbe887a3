"""What every alert channel is: a kind name, settings read at start-up, `send`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

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

    @abstractmethod
    def send(self, alert: Alert) -> str:
        """Deliver one alert; return what happened in a few words (e.g. "HTTP 204").
        Raises DeliveryFailed, or ConfigError when a secret is missing."""

    def send_digest(self, digest: Digest) -> str:
        """Deliver a digest (every alert of a period) as ONE message. A kind that
        cannot is refused for good, so its digests are dead-lettered, not retried."""
        raise DeliveryFailed(f"a {self.kind} channel cannot send digests", permanent=True)
