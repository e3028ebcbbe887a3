"""Standard Webhooks signatures: HMAC-SHA256 over "id.timestamp.body", base64, "v1,"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: "whsec_" + base64 is decoded; any other string
    is used as its raw UTF-8 bytes. Raises ValueError on bad base64."""
    if secret.startswith(PREFIX):
        try:
            return base64.b64decode(secret[len(PREFIX):], validate=True)
        except binascii.Error as exc:
            raise ValueError(f"the part after {PREFIX!r} is not base64: {exc}") from None
    return secret.encode("utf-8")


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
