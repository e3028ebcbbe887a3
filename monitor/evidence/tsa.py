"""An RFC 3161 timestamp authority's word on each checkpoint (`[evidence] tsa_url`).

The TSA is sent the SHA-256 of the checkpoint's signed message (the bytes the Ed25519
key signs) and answers a token it signed: "this digest existed at this time". The
answer (an RFC 3161 TimeStampResp, DER, base64) is kept as the checkpoint's
`tsa_token`, in its event and its witness line. Requests and answers are built and
checked by `rfc3161-client`; `verify` checks that each token's message imprint is the
checkpoint's message and that its signature chains to a certificate of
`[evidence] tsa_ca_file`. A TSA that does not answer does not stop a checkpoint: it is
made without a token, and the next checkpoint asks again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from monitor import __version__
from monitor.errors import ConfigError
from monitor.untrusted import one_line

log = logging.getLogger("monitor.evidence")

TIMEOUT = 10.0  # seconds: a checkpoint waits this long for its timestamp at most
MAX_ANSWER = 64 * 1024
QUERY_TYPE = "application/timestamp-query"


class TsaUnavailable(Exception):
    """The TSA gave no usable token; the message says why, in one line."""


def stamp(url: str, message: bytes, timeout: float = TIMEOUT) -> str:
    """The TSA's answer for `message` (base64 DER), checked against the request."""
    request = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
               .cert_request(cert_request=True).nonce(nonce=True).build())
    try:
        answer = requests.post(url, data=request.as_bytes(), timeout=timeout, headers={
            "Content-Type": QUERY_TYPE, "User-Agent": f"govkz-monitor/{__version__}"})
    except requests.RequestException as exc:
        raise TsaUnavailable(f"{url}: {type(exc).__name__}: {one_line(str(exc), 200)}") from None
    if answer.status_code != 200:
        raise TsaUnavailable(f"{url} answered HTTP {answer.status_code}")
    if len(answer.content) > MAX_ANSWER:
        raise TsaUnavailable(f"{url} answered {len(answer.content)} bytes, not a timestamp")
    try:
        response = decode_timestamp_response(answer.content)
    except ValueError as exc:
        raise TsaUnavailable(f"{url}: the answer is not an RFC 3161 response ({exc})") from None
    if response.status not in (0, 1):  # granted, granted with modifications
        said = one_line("; ".join(response.status_string) or "no reason given", 200)
        raise TsaUnavailable(f"{url} refused the request (status {response.status}: {said})")
    imprint = response.tst_info.message_imprint.message
    if imprint != hashlib.sha256(message).digest():
        raise TsaUnavailable(f"{url} stamped another digest than the one sent")
    if request.nonce is not None and response.tst_info.nonce != request.nonce:
        raise TsaUnavailable(f"{url} answered another request's nonce")
    return base64.b64encode(response.as_bytes()).decode("ascii")


def load_roots(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM file: the TSA's root (and any intermediates)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the TSA certificates: "
                          f"{exc.strerror or exc}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"{path}: not PEM certificates (the TSA's CA)") from None
    return certificates


def check_token(token: str, message: bytes, certificates: list[x509.Certificate] | None) -> str:
    """What is wrong with a stored token for `message` ("" when nothing is). Without
    `certificates` only the message imprint is checked."""
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError) as exc:
        return f"its TSA token is not an RFC 3161 response ({exc})"
    algorithm = {"2.16.840.1.101.3.4.2.1": hashlib.sha256, "2.16.840.1.101.3.4.2.2":
                 hashlib.sha384, "2.16.840.1.101.3.4.2.3": hashlib.sha512}.get(
        response.tst_info.message_imprint.hash_algorithm.dotted_string)
    if algorithm is None or response.tst_info.message_imprint.message != algorithm(
            message).digest():
        return "its TSA token stamps another message than the checkpoint's"
    if certificates is None:
        return ""
    roots = [c for c in certificates if c.issuer == c.subject] or certificates
    builder = VerifierBuilder()
    for certificate in roots:
        builder = builder.add_root_certificate(certificate)
    for certificate in certificates:
        if certificate not in roots:
            builder = builder.add_intermediate_certificate(certificate)
    try:
        builder.build().verify_message(response, message)
    except VerificationError as exc:
        return f"its TSA token does not verify against the TSA certificates ({_short(exc)})"
    return ""


def stamp_time(token: str) -> datetime | None:
    """When the TSA says it stamped (naive UTC), or None for a bad token."""
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        return None
    moment = response.tst_info.gen_time
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _short(exc: Exception) -> str:
    """The library's reason without OpenSSL's error stack (kept: its "Verify error")."""
    said = str(exc)
    reason = said.split(": ErrorStack")[0]
    if (at := said.find("Verify error: ")) >= 0:
        reason += ": " + said[at + len("Verify error: "):].split('"')[0]
    return reason[:300]
