"""The `apprise` channel: any notification service Apprise knows, by URL."""

from __future__ import annotations

import warnings
from typing import Any

from monitor.alerts import digest_render
from monitor.alerts.alert import Alert
from monitor.alerts.channels.base import Channel, DeliveryFailed, Shown
from monitor.alerts.digest import Digest
from monitor.alerts.render import short_text, subject
from monitor.alerts.settings import Settings, secret
from monitor.errors import ConfigError


class AppriseUrl(Channel):
    """Send each alert through Apprise (Telegram, Matrix, Slack, ntfy, … by URL).

    url      an Apprise URL, e.g. "tgram://bottoken/ChatID" (this or url_env)
    url_env  environment variable holding the URL, for URLs that carry a token

    The title is the subject line ("[high] Title (source): summary"); the body
    holds the title, the summary, a short word diff ([-deleted-] {+inserted+}),
    the source and the alert id. Apprise reports only success or failure, so every failure is
    retried later.
    """

    kind = "apprise"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.url = settings.text("url")
        self.url_env = settings.env_name("url_env")
        if bool(self.url) == bool(self.url_env):
            raise settings.fail("url", "set exactly one of url and url_env")
        if self.url and not _apprise(self.url):
            raise settings.fail("url", "Apprise does not accept this URL "
                                "(see https://github.com/caronc/apprise/wiki)")

    @property
    def target(self) -> str:
        # An Apprise URL carries the service's token (tgram://bottoken/ChatID): only
        # its scheme, which names the service, is shown.
        return f"{self.url.split(':', 1)[0]}://…" if self.url else f"${self.url_env}"

    def shown(self) -> list[Shown]:
        if self.url:
            return [Shown("url", self.target)]
        return [Shown.secret("url_env", self.url_env)]

    def send(self, alert: Alert) -> str:
        r = self.reader
        return self._notify(subject(alert, r), short_text(alert, r=r), alert.id)

    def send_digest(self, digest: Digest) -> str:
        r = self.reader
        return self._notify(digest_render.subject(digest, r),
                            digest_render.short_text(digest, r), digest.id)

    def _notify(self, title: str, text: str, ident: str) -> str:
        url = self.url or secret(self.where, str(self.url_env))
        notifier = _apprise(url)
        if notifier is None:
            raise ConfigError(f"{self.where}: {self.url_env}: Apprise does not accept this URL")
        body = f"{text}\nalert id: {ident}"
        # TEXT: our body is plain text, so Apprise escapes it for HTML services.
        if not notifier.notify(title=title, body=body, body_format="text"):
            raise DeliveryFailed(f"{url.split(':', 1)[0]}://…: Apprise could not deliver "
                                 "(see the log for its reason)")
        return f"sent via {url.split(':', 1)[0]}"


def _apprise(url: str) -> Any | None:
    """An Apprise object for one URL, or None if Apprise does not accept it."""
    # Apprise loads its plugins on first use; some trip deprecation warnings not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # imported when used: it is large, and only this channel needs it

        notifier = apprise.Apprise()
        return notifier if notifier.add(url) else None
