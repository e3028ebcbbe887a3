"""What the document-file kinds (`pdf`, `docx`) share: fetching the file, and its key.

A file is fetched whole, under the fetcher's size cap, conditionally when the server
gave an ETag or a Last-Modified. Its key is the SHA-256 of its bytes, of the code
that extracts it and of the source's masks: a file whose key is the one recorded for
the current text is "not modified" before any parsing, so an unchanged decree costs
one download and one hash, never an extraction (see monitor.sources.pagekey).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from monitor.document import Document
from monitor.errors import FetchFailed
from monitor.normalize import normalize_document, normalize_text
from monitor.sources import masking
from monitor.sources.base import Capture, NotModified, SourceSpec, Validators

if TYPE_CHECKING:
    from monitor.fetch import Fetcher, Response

# Bump when a document kind starts reading files differently within one release:
# keys recorded before are then never trusted again.
EXTRACTION_REVISION = 1

# Servers label document files loosely; any of these may be the file asked for. Its
# first bytes decide (`FileKind.magic`), not the label.
GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "application/download",
                 "application/x-download", "application/force-download")


@dataclass(frozen=True)
class FileKind:
    """How to recognise and read one kind of document file."""

    name: str  # as users say it: "PDF", "DOCX"
    media_types: tuple[str, ...]
    magic: bytes  # the file starts with these bytes (a PDF: within its first KB)
    libraries: tuple[str, ...]  # distributions whose version the extraction depends on
    extract: Callable[[bytes, str], Document]  # (content, url) -> Document; raises FetchFailed

    @property
    def accept(self) -> tuple[str, ...]:
        return (*self.media_types, *GENERIC_TYPES)


def capture_file(
    file: FileKind, spec: SourceSpec, fetcher: Fetcher, previous: Validators | None
) -> Capture | NotModified:
    """Fetch the file; unless it is the one already read, extract and mask its text."""
    answer = fetcher.get(spec.url, validators=previous, accept=file.accept,
                         ca_bundle=spec.ca_bundle)
    if answer.not_modified:
        kept = answer.validators
        return NotModified(kept if kept.etag or kept.last_modified else previous or kept)
    key = file_key(file, spec, answer.content)
    validators = replace(answer.validators, page_key=key)
    if previous is not None and previous.knows(key):
        return NotModified(validators)
    _expect_magic(file, answer)
    document = _masked(file.extract(answer.content, answer.url), spec.ignore)
    return Capture(document=document, final_url=answer.url, raw=answer.content,
                   content_type=answer.content_type, validators=validators,
                   redirects=answer.redirects)


def file_key(file: FileKind, spec: SourceSpec, content: bytes) -> str:
    digest = hashlib.sha256()
    code = (EXTRACTION_REVISION, file.name, [_installed(n) for n in
                                             ("govkz-monitor", *file.libraries)])
    digest.update(repr((code, spec.ignore)).encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(content)
    return digest.hexdigest()


def document_of(file: FileKind, url: str, title: str | None,
                paragraphs: Iterable[str]) -> Document:
    """The canonical document of a file's text; a file with no text at all is `empty`."""
    document = normalize_document(title, None, paragraphs)
    if not document.paragraphs and document.title is None:
        raise FetchFailed("empty", f"{url}: the {file.name} file has no text")
    return document


def _expect_magic(file: FileKind, answer: Response) -> None:
    if file.magic not in answer.content[:1024]:
        start = answer.content[:16].decode("ascii", "replace")
        raise FetchFailed("parse", f"{answer.url}: not a {file.name} file (it begins "
                          f"{start!r}, sent as {answer.content_type or 'untyped'})",
                          status=answer.status)


def _masked(document: Document, ignore: Iterable[str]) -> Document:
    """The `regex:` masks of the source cut from the text; CSS masks have nothing to match."""
    patterns = masking.text_masks(ignore)
    if not patterns:
        return document
    title, *paragraphs = masking.mask_texts((document.title or "", *document.paragraphs),
                                            patterns)
    return normalize_document(None if document.title is None else normalize_text(title),
                              document.published, paragraphs)


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"
