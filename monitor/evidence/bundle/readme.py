"""The README.txt of a bundle: what it shows and how to check it, for a reader who
may never have heard of the monitor and has only standard tools."""

from __future__ import annotations

from typing import Any

from monitor.untrusted import one_line

TEMPLATE = """\
EVIDENCE BUNDLE - govkz-monitor
==============================

What this shows
---------------
govkz-monitor watches official documents published on gov.kz and keeps every version
it reads. This bundle holds its record of one document:

  source:    {source}
  address:   {url}
  versions:  {versions}
  exported:  {exported_at}
{copies}
For each version: the text as the monitor stored it (texts/V.txt) and, where kept,
the bytes the server sent (captures.warc.gz, in the WARC 1.1 archive format) and,
where one was taken, a screenshot of the page as a browser showed it
(screenshots/V.png, with screenshots/V.layout.json: where its text blocks are). With
them, every event the monitor recorded about the document in that span
(events.jsonl), and a checkpoint the monitor signed with its Ed25519 key
(checkpoints.jsonl, checkpoint/statement.bin, checkpoint/signature.bin,
public_key.pem): "the log up to position {position} is {events} events whose Merkle
root is {root}, as of {time}".

proofs.json ties each event to that signed root (RFC 6962 inclusion proofs). Each
event names the sha256 of its text (content_hash) and of its captured bytes
(raw_hash), and carries the hash of the event before it (a hash chain). So once
the signature holds, no byte of a text, a capture or an event can be changed,
added or left out without a check below failing.

The record says what the monitor read and when, not that the server's owner wrote
it: a time-stamp token from a third party{tsa} dates the checkpoint independently.

Checking it with govkz-monitor (no store or configuration needed)
----------------------------------------------------------------
    pip install govkz-monitor
    monitor verify-bundle THIS-FILE.zip --public-key KEY-YOU-GOT-ELSEWHERE.pem

It checks every digest, the hash chain, every inclusion proof and the signature,
and names each failure. Exit status 0: all hold; 1: something was altered.

Why a key obtained independently matters: public_key.pem came in this bundle, so
whoever made the bundle chose it. A forger could sign a forged log with their own
key. Get the monitor's public key another way (its operator's website, a witness
that keeps its checkpoints, `monitor keys` on the operator's machine) and pass it
with --public-key; its fingerprint is sha256 of the raw 32-byte key.

Checking it with standard tools
-------------------------------
1. Every file is the one packed (after unzipping):
       sha256sum -c SHA256SUMS

2. The signature (OpenSSL 3):
       openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin \\
           -in checkpoint/statement.bin -sigfile checkpoint/signature.bin
   prints "Signature Verified Successfully". statement.bin is readable text: a
   fixed first line, then the signed statement as JSON, with the root.

3. A text is the one the log names: its sha256 is the content_hash of its
   version's event in events.jsonl (bundle.json lists which event):
       sha256sum texts/1.txt

4. A capture is the one the log names: each WARC response record carries
   WARC-Payload-Digest (sha1, base32, as WARC 1.1 says) and Monitor-Raw-SHA256,
   the sha256 of the payload, which is the raw_hash of its event. Any WARC tool
   (warcio, for one: `warcio check captures.warc.gz`) reads the records. The store
   keeps the fetched bytes and some response headers, not the whole exchange; the
   records say in Monitor-Reconstructed what was not kept.

5. A screenshot is the one the log names: its sha256 is the "sha256" under
   "evidence" -> "screenshot" in its version's event (the layout's is "layout"):
       sha256sum screenshots/2.png

6. The events and the root: each event's hash is sha256 of the previous event's
   hash followed by the canonical JSON (sorted keys, no spaces, UTF-8) of
   event_id, stream_id, version, type, schema_version, data and recorded_at. A
   Merkle leaf is the canonical JSON of position, stream_id, version, prev_hash and
   hash; leaf and node hashes are as RFC 6962 section 2.1 defines them, and each
   proof in proofs.json is an RFC 9162 audit path to the signed root.
{tsa_steps}"""

TSA_STEPS = """
7. The time-stamp token (checkpoint/tsa_token.der) is an RFC 3161 token over the
   sha256 of checkpoint/statement.bin. With the time-stamp authority's certificate:
       openssl ts -verify -data checkpoint/statement.bin \\
           -in checkpoint/tsa_token.der -token_in -CAfile TSA-CA.pem
"""


def text(info: dict[str, Any], has_tsa: bool) -> str:
    checkpoint = info["checkpoint"]
    first, last = info.get("from_version"), info.get("to_version")
    versions = "none stored" if first is None else (
        f"{first}" if first == last else f"{first} to {last}")
    return TEMPLATE.format(
        source=one_line(str(info["source"])), url=one_line(str(info["url"])),
        versions=versions, exported_at=info["exported_at"],
        position=checkpoint["position"], events=checkpoint["events"],
        root=checkpoint["root"], time=checkpoint["time"],
        tsa=" (checkpoint/tsa_token.der)" if has_tsa else ", when the checkpoint has one,",
        tsa_steps=TSA_STEPS if has_tsa else "", copies=_copies(info))


def _copies(info: dict[str, Any]) -> str:
    """Public archive copies of the page, made when it changed: a third party's own
    record of what the page showed (their events are in events.jsonl)."""
    lines = [f"  archived:  {one_line(str(c.get('archive_url', '')))}"
             + (f" (version {c['version']})" if isinstance(c.get("version"), int) else "")
             for c in info.get("archive_copies") or [] if isinstance(c, dict)]
    return "".join(line + "\n" for line in lines)
