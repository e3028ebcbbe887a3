"""What a bundle holds, by name. A bundle is a zip of these members:

    README.txt                what the bundle shows and how to check it, in plain words
    SHA256SUMS                the sha256 of every other member (`sha256sum -c SHA256SUMS`)
    bundle.json               which document, which versions, which checkpoint
    events.jsonl              the document's events exactly as stored, with their hashes
    texts/V.txt               the canonical text of version V
    captures.warc.gz          the raw captures as WARC 1.1 records
    screenshots/V.png         version V's screenshot, when one was taken (v2)
    screenshots/V.layout.json where its text blocks are on it, when recorded (v2)
    checkpoints.jsonl         the signed checkpoint covering the events
    checkpoint/statement.bin  the exact bytes it signs
    checkpoint/signature.bin  its Ed25519 signature, raw (64 bytes)
    checkpoint/tsa_token.der  an RFC 3161 time-stamp token for it, when it has one
    proofs.json               an RFC 6962 inclusion proof per event to its root
    public_key.pem            the key that signed it

Each member's sha256 is in SHA256SUMS; each text's, capture's and screenshot's is also
named by its version's event, which the signed checkpoint covers.
"""

from __future__ import annotations

import hashlib

# v2 added screenshots/ (issue 15). A v1 bundle still checks: it has none to check.
FORMAT = "govkz-monitor evidence bundle v2"
FORMAT_V1 = "govkz-monitor evidence bundle v1"
FORMATS = (FORMAT, FORMAT_V1)
README = "README.txt"
MANIFEST = "SHA256SUMS"
INFO = "bundle.json"
EVENTS = "events.jsonl"
CAPTURES = "captures.warc.gz"
CHECKPOINTS = "checkpoints.jsonl"
STATEMENT = "checkpoint/statement.bin"
SIGNATURE = "checkpoint/signature.bin"
TSA_TOKEN = "checkpoint/tsa_token.der"
PROOFS = "proofs.json"
PUBLIC_KEY = "public_key.pem"
VERSION_TYPES = ("BaselineImported", "VersionCaptured")  # each one is a document version


def text_name(version: int) -> str:
    return f"texts/{version}.txt"


def manifest(members: dict[str, bytes]) -> bytes:
    """`sha256sum` format: digest, two spaces, name; one line per member, sorted."""
    lines = [f"{hashlib.sha256(body).hexdigest()}  {name}\n"
             for name, body in sorted(members.items())]
    return "".join(lines).encode("utf-8")


def parse_manifest(text: str) -> dict[str, str]:
    """name -> sha256; ValueError names a bad line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise ValueError(f"{MANIFEST} line {number} is not `sha256  name`")
        found[name.removeprefix("*")] = digest.lower()
    return found
