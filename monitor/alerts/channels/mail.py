"""The `email` channel: SMTP, plain text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape
from typing import TYPE_CHECKING

from monitor.alerts import digest_render
from monitor.alerts.alert import Alert
from monitor.alerts.attachment import Attachment, screenshot_attachment
from monitor.alerts.channels.base import Channel, DeliveryFailed, Shown
from monitor.alerts.digest import Digest
from monitor.alerts.render import html_body, subject, text_body
from monitor.alerts.settings import Settings, secret
from monitor.untrusted import one_line

if TYPE_CHECKING:
    from monitor.store import EventStore

PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class Email(Channel):
    """Send each alert as an e-mail: plain text and HTML with the word-level diff
    (deletions red and struck through, insertions green); page text is escaped.

    host          SMTP server (required)
    security      none | starttls | ssl (default starttls)
    port          default 25 (none), 587 (starttls), 465 (ssl)
    username_env  environment variable holding the SMTP user name (optional)
    password_env  environment variable holding the SMTP password (with username_env)
    from          sender address (required)
    to            recipient address, or a list of them (required)
    timeout       how long to wait for the server (default 30s)
    ca_bundle     PEM file of the CAs to trust for the server's certificate, e.g. a
                  national root or an internal CA (default: the system's)
    attach_screenshot  true: a change alert carries the new version's screenshot,
                  when one was taken, as a PNG attachment named SOURCE-vN.png; one
                  larger than 5 MB is left out and the text says how to get it
                  (`monitor show SOURCE@N --screenshot FILE`). Digests carry none.

    The subject leads with the significance and the document's title, then the
    source, e.g. "[high] Human rights conference (mfa-…): 1 number changed in
    paragraph 3". The Message-ID is derived from the alert id,
    the same on every retry. A 5xx answer dead-letters the alert; 4xx answers
    and network errors are retried later.
    """

    kind = "email"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.host = settings.text("host", required=True)
        self.security = settings.choice("security", tuple(PORTS), "starttls")
        self.port = settings.integer("port", PORTS[self.security], 1, 65535)
        self.username_env = settings.env_name("username_env")
        self.password_env = settings.env_name("password_env", required=bool(self.username_env))
        self.sender = settings.text("from", required=True)
        self.to = settings.texts("to")
        if not self.to:
            raise settings.fail("to", "is required (an address or a list of them)")
        for key, addresses in (("from", (self.sender,)), ("to", self.to)):
            for address in addresses:
                if "@" not in parseaddr(address)[1]:
                    raise settings.fail(key, f"{address!r} is not an e-mail address")
        self.timeout = settings.duration("timeout", 30.0)
        self.ca_bundle = settings.path("ca_bundle")
        self.attach_screenshot = settings.flag("attach_screenshot")
        self.store: EventStore | None = None

    def attach(self, store: EventStore) -> None:
        self.store = store  # the screenshots' blobs are read from it at send time

    @property
    def target(self) -> str:
        return ", ".join(self.to)

    def shown(self) -> list[Shown]:
        found = [Shown("host", f"{self.host}:{self.port}"), Shown("security", self.security),
                 Shown("from", self.sender), Shown("to", ", ".join(self.to))]
        if self.attach_screenshot:
            found.append(Shown("attach_screenshot", "true"))
        if self.username_env:
            found += [Shown.secret("username_env", self.username_env),
                      Shown.secret("password_env", self.password_env)]
        return found

    def message(self, alert: Alert) -> EmailMessage:
        r = self.reader
        shot = self._screenshot(alert) if self.attach_screenshot else None
        text, html = text_body(alert, r), html_body(alert, r)
        if shot is not None and shot.note:
            text = f"{text.rstrip()}\n\n{shot.note}\n"
            html = html.replace("</body>", f"<p>{escape(shot.note)}</p>\n</body>", 1)
        msg = self._message(alert.id, subject(alert, r), text, html)
        if shot is not None and shot.png is not None:
            msg.add_attachment(shot.png, maintype="image", subtype="png",
                               filename=shot.filename)
        return msg

    def _screenshot(self, alert: Alert) -> Attachment | None:
        if alert.screenshot is None or alert.record is None or self.store is None:
            return None
        return screenshot_attachment(self.store.engine, alert, self.reader)

    def digest_message(self, digest: Digest) -> EmailMessage:
        r = self.reader
        return self._message(digest.id, digest_render.subject(digest, r),
                             digest_render.text_body(digest, r),
                             digest_render.html_body(digest, r))

    def _message(self, ident: str, title: str, text: str, html: str) -> EmailMessage:
        address = parseaddr(self.sender)[1]
        msg = EmailMessage()
        if title.isascii():
            msg["Subject"] = title
        else:
            # Python's own folding of a long non-ASCII header can drop the space at a fold
            # ("2026-01-05: 6" arrives as "2026-01-05:6"); email.header keeps each space
            # inside its encoded word, and the folded value is stored as it is.
            msg.set_raw("Subject", Header(title, "utf-8", header_name="Subject").encode())
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<{ident}@{address.rpartition('@')[2]}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Monitor-Alert-Id"] = ident
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        msg["Content-Language"] = self.reader.language  # after: set_content clears content-*
        return msg

    def send(self, alert: Alert) -> str:
        return self._send(lambda: self.message(alert))

    def send_digest(self, digest: Digest) -> str:
        return self._send(lambda: self.digest_message(digest))

    def _send(self, write: Callable[[], EmailMessage]) -> str:
        login = None
        if self.username_env and self.password_env:
            login = (secret(self.where, self.username_env), secret(self.where, self.password_env))
        try:
            msg = write()
        except (ValueError, TypeError) as exc:  # a header the e-mail library will not write
            raise DeliveryFailed(f"cannot write the message: {one_line(str(exc))}",
                                 permanent=True) from None
        server = f"{self.host}:{self.port}"
        try:
            refused = self._deliver(msg, login)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(f"{server} refused every recipient ({_codes(codes)})",
                                 permanent=all(code >= 500 for code in codes)) from None
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error.decode("utf-8", "replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            raise DeliveryFailed(f"{server} answered {exc.smtp_code} {' '.join(said.split())}",
                                 permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(f"{server}: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{server}: {exc or type(exc).__name__}") from None
        except UnicodeError as exc:  # an address or header the server cannot take
            raise DeliveryFailed(f"{server}: {one_line(str(exc))}", permanent=True) from None
        if refused:
            return f"accepted by {server}, refused for {', '.join(sorted(refused))}"
        return f"accepted by {server}"

    def _deliver(self, msg: EmailMessage, login: tuple[str, str] | None) -> dict[str, object]:
        context = ssl.create_default_context()  # verifies, always
        if self.ca_bundle:  # trusted beyond the system's CAs, not instead of them
            context.load_verify_locations(cafile=self.ca_bundle)
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if login:
                smtp.login(*login)
            return dict(smtp.send_message(msg, to_addrs=list(self.to)))


def _codes(codes: list[int]) -> str:
    return ", ".join(str(code) for code in sorted(set(codes)))
