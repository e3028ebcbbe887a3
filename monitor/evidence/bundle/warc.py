"""The bundle's raw captures as WARC 1.1 (ISO 28500), written and read with warcio.

Each kept capture becomes a `response` record (the fetched bytes behind the HTTP
headers the store kept) and a `request` record for it, linked by
WARC-Concurrent-To. A baseline's bytes came from a shipped file, not from an answer,
so it is a `resource` record. Every payload carries its WARC-Payload-Digest (sha1,
base32, as the standard has it) and, in `Monitor-Raw-SHA256`, the sha256 that the
log's event names as its `raw_hash`, which ties the bytes to the signed log.

The store keeps what a check needs, not the whole exchange: the status line of a
recorded capture was a success, whose exact code is not kept, and the request's
headers are not kept at all. The records say so in `Monitor-Reconstructed`.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

RAW_SHA256 = "Monitor-Raw-SHA256"
EVENT_POSITION = "Monitor-Event-Position"
EVENT_ID = "Monitor-Event-Id"
RECONSTRUCTED = "Monitor-Reconstructed"
NOT_KEPT_RESPONSE = ("the status line: the store keeps that the answer was a success, not "
                     "its code; of the headers, only Content-Type, ETag and Last-Modified "
                     "were kept")
NOT_KEPT_REQUEST = ("the request's headers were not kept: this record names the method, "
                    "the address and the host only")


def payload_digest(payload: bytes) -> str:
    """WARC-Payload-Digest as WARC 1.1 writes it: sha1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Capture:
    """One raw capture to write: the bytes and what the version's event says of them."""

    raw: bytes
    event_id: str
    position: int
    stream_id: str
    version: int  # the document version
    recorded_at: datetime
    data: dict[str, Any]  # the event's data
    baseline: bool
    source_url: str  # the watched address: a baseline's own record names no other


def write(out: BinaryIO, captures: list[Capture]) -> None:
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    for capture in captures:
        if capture.baseline:
            writer.write_record(_resource(writer, capture))
            continue
        response = _response(writer, capture)
        writer.write_record(response)
        writer.write_record(_request(writer, capture,
                                     response.rec_headers.get_header("WARC-Record-ID")))


def _common(capture: Capture) -> dict[str, str]:
    return {"WARC-Date": warc_date(capture.recorded_at),
            "WARC-Payload-Digest": payload_digest(capture.raw),
            RAW_SHA256: hashlib.sha256(capture.raw).hexdigest(),
            EVENT_POSITION: str(capture.position), EVENT_ID: capture.event_id,
            "Monitor-Stream": capture.stream_id,
            "Monitor-Document-Version": str(capture.version)}


def target(capture: Capture) -> str:
    """Where the bytes were read: the API address a gov.kz article came from, else
    the page's address."""
    evidence = capture.data.get("evidence") or {}
    url = evidence.get("api_url") if isinstance(evidence, dict) else None
    return str(url or capture.data.get("url") or "")


def _response(writer: WARCWriter, capture: Capture) -> Any:
    data = capture.data
    headers = [("Content-Type", str(data.get("content_type") or "application/octet-stream")),
               ("Content-Length", str(len(capture.raw)))]
    for name, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
        if data.get(key):
            headers.append((name, str(data[key])))
    http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
    warc_headers = {**_common(capture), RECONSTRUCTED: NOT_KEPT_RESPONSE}
    return writer.create_warc_record(target(capture), "response",
                                     payload=io.BytesIO(capture.raw), length=len(capture.raw),
                                     http_headers=http, warc_headers_dict=warc_headers)


def _request(writer: WARCWriter, capture: Capture, response_id: str) -> Any:
    url = urlsplit(target(capture))
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    http = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", url.netloc)],
                            is_http_request=True)
    warc_headers = {"WARC-Date": warc_date(capture.recorded_at),
                    "WARC-Concurrent-To": response_id, EVENT_POSITION: str(capture.position),
                    RECONSTRUCTED: NOT_KEPT_REQUEST}
    return writer.create_warc_record(target(capture), "request", payload=io.BytesIO(b""),
                                     length=0, http_headers=http,
                                     warc_headers_dict=warc_headers)


def _resource(writer: WARCWriter, capture: Capture) -> Any:
    warc_headers = {**_common(capture), "Content-Type": "application/octet-stream",
                    "Monitor-Origin": str(capture.data.get("origin") or "baseline")}
    return writer.create_warc_record(capture.source_url, "resource",
                                     payload=io.BytesIO(capture.raw),
                                     length=len(capture.raw), warc_headers_dict=warc_headers)


@dataclass(frozen=True)
class ReadRecord:
    number: int  # 1-based, in the file
    type: str
    target: str
    headers: dict[str, str]
    payload: bytes


MAX_PAYLOADS = 1024 * 1024 * 1024  # what every record's payload may unpack to, in all


def read(data: bytes, limit: int = MAX_PAYLOADS) -> Iterator[ReadRecord]:
    """Every record, its payload as stored (after the HTTP headers, nothing decoded).
    Raises ValueError when the file is not a readable WARC, or when its payloads
    unpack to more than `limit` bytes in all (a gzip bomb)."""
    left = limit
    try:
        for number, record in enumerate(ArchiveIterator(io.BytesIO(data)), start=1):
            headers = dict(record.rec_headers.headers)
            payload = record.raw_stream.read(left + 1)
            left -= len(payload)
            if left < 0:
                raise _TooLarge(f"its records unpack to more than {limit:,} bytes (a gzip "
                                "bomb or not a bundle's captures)")
            yield ReadRecord(number, record.rec_type, headers.get("WARC-Target-URI", ""),
                             headers, payload)
    except _TooLarge as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # warcio raises whatever its layers meet on a garbled file
        raise ValueError(f"not a readable WARC file ({type(exc).__name__}: {exc})") from None


class _TooLarge(Exception):
    pass
