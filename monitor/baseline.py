"""Importing a known version from outside the monitor (the shipped seed capture).

A baseline is a text capture plus a small TOML metadata file. It becomes
version 1 of its document, recorded as BaselineImported; importing it again
adds nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from monitor.document import Document
from monitor.errors import ConfigError
from monitor.events import BaselineImported
from monitor.normalize import normalize_document, parse_capture
from monitor.shipped import snapshot
from monitor.store import EventStore
from monitor.store.queries import source_by_stream
from monitor.store.snapshots import Blob

SEED = snapshot("govkz-mfa-2025-12-11-human-rights-penitentiary.en.toml")


@dataclass(frozen=True)
class Baseline:
    metadata_path: Path
    text_path: Path
    name: str
    url: str
    kind: str
    language: str | None
    title: str | None
    published: str | None
    raw: bytes

    def document(self) -> Document:
        # Only what the capture itself shows is evidence. The capture has no
        # title line, so the title stays unknown (the metadata's title is a label
        # for people, not a claim about the page); the date comes from its chrome.
        captured = parse_capture(self.raw.decode("utf-8"))
        return normalize_document(
            captured.title, captured.published or self.published, captured.paragraphs
        )


def read_baseline(metadata_path: Path) -> Baseline:
    try:
        meta = tomllib.loads(metadata_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{metadata_path}: cannot read baseline metadata: {exc}") from None
    for key in ("name", "url", "text"):
        if not isinstance(meta.get(key), str):
            raise ConfigError(f"{metadata_path}: {key}: is required")
    text_path = metadata_path.parent / meta["text"]
    try:
        raw = text_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{metadata_path}: text: cannot read {text_path}: {exc}") from None
    return Baseline(
        metadata_path=metadata_path,
        text_path=text_path,
        name=meta["name"],
        url=meta["url"],
        kind=meta.get("kind", "govkz"),
        language=meta.get("language"),
        title=meta.get("title"),
        published=meta.get("published"),
        raw=raw,
    )


def import_baseline(store: EventStore, stream_id: str, baseline: Baseline) -> bool:
    """Record the baseline as the document's first version; False if it has one already."""
    row = source_by_stream(store.engine, stream_id)
    if row is None:
        raise ConfigError(f"cannot import a baseline for unregistered source {stream_id!r}")
    if row.document_version > 0:
        return False
    document = baseline.document()
    text = Blob.text(document.canonical_text())
    store.append(
        stream_id,
        row.stream_version,
        [BaselineImported(content_hash=text.sha256, origin=baseline.text_path.name,
                          title=document.title, published=document.published,
                          raw_hash=Blob.raw(baseline.raw).sha256)],
        blobs=[text, Blob.raw(baseline.raw)],
    )
    return True
