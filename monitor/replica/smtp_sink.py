"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it is given."""

from __future__ import annotations

import socket
import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class SmtpSink:
    """`security`: "none" (plain SMTP), "starttls" (STARTTLS offered and required
    before MAIL) or "ssl" (TLS from the first byte), the latter two with the given
    certificate chain and key (PEM files)."""

    def __init__(self, security: str = "none", certfile: str | None = None,
                 keyfile: str | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each message as it came over the wire (DATA)
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject_with: str | None = None  # e.g. "550 no such user"
        self._lock = threading.Lock()
        self.port = _free_port()
        options: dict[str, Any] = {}
        if security != "none":
            if certfile is None:
                raise ValueError(f"an SMTP sink with {security} needs a certificate")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
            options = ({"tls_context": context, "require_starttls": True}
                       if security == "starttls" else {"ssl_context": context})
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject_with:
            return self.reject_with
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.raw.append(bytes(envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
