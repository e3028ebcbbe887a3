"""`monitor import`: the pages another watcher watched, read from its own files.

Each reader (urlwatch's urls.yaml, a changedetection.io backup, OPML, a plain list of
URLs) turns a file into Entries: a URL and the settings of ours it maps onto, plus,
in words, everything it could not carry over. Readers only read: nothing is fetched
and nothing is registered here (monitor.imports.register does that, through the
checks `monitor add` uses). A file that cannot be read at all is a UsageError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import UsageError
from monitor.input_files import read_capped
from monitor.tags import TAG_MAX, tag_problem

FORMATS = ("urlwatch", "changedetection", "opml", "urls")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a backup zip; its history is never unpacked
MAX_TEXT_BYTES = 16 * 1024 * 1024  # a urls.yaml, an OPML, a list, one JSON of a backup
MAX_ENTRIES = 100_000
ZIP_MAGIC = b"PK\x03\x04"
_URL_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$")


@dataclass
class Entry:
    """One page the file names, as the other tool had it."""

    where: str  # how the user finds it in the file: "job 3", "line 12", "watch 1b2c…"
    url: str | None  # None: nothing to watch (a shell command)
    name: str | None = None  # the name or title the file gives it, unchecked
    selector: str | None = None
    ignore: list[str] = field(default_factory=list)
    interval_seconds: int | None = None  # None: --interval, else the config's default
    tags: list[str] = field(default_factory=list)
    paused: bool = False
    dropped: list[str] = field(default_factory=list)  # "what: why", not carried over
    changed: list[str] = field(default_factory=list)  # carried over, but not as it was
    skipped: str | None = None  # why nothing of it is imported


@dataclass
class ImportFile:
    format: str
    entries: list[Entry]
    notes: list[str] = field(default_factory=list)  # about the whole file


def read(path: Path, forced: str | None = None) -> ImportFile:
    """The entries of the file at `path`, in the format `forced` or the one its content
    shows. UsageError, one line, for a file that cannot be read."""
    data = read_capped(path, MAX_FILE_BYTES, "an import file")
    found = forced or detected(data)
    if found is None:
        raise UsageError(f"{path}: not a file `monitor import` knows (urlwatch urls.yaml, "
                         "changedetection.io backup, OPML or a list of URLs); name the "
                         "format with --from")
    try:
        imported = _parsed(found, data, path)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # A value of another type than the tool writes (a number where it keeps a list):
        # the readers check the shapes they use, and this is what slipped past them.
        raise UsageError(f"{path}: not a {found} file as that tool writes it (a value of "
                         f"an unexpected type: {type(exc).__name__}); nothing was "
                         "imported") from None
    if len(imported.entries) > MAX_ENTRIES:
        raise UsageError(f"{path}: {len(imported.entries)} entries; an import takes at most "
                         f"{MAX_ENTRIES}")
    return imported


def _parsed(found: str, data: bytes, path: Path) -> ImportFile:
    if found == "changedetection":
        from monitor.imports.changedetection import read_backup

        return read_backup(data, path)
    if found == "opml":  # bytes: the XML declaration names their encoding
        from monitor.imports.opml import read_outlines

        return read_outlines(_sized(data, path), path)
    if found == "urlwatch":
        from monitor.imports.urlwatch import read_jobs

        return read_jobs(_text(data, path), path)
    return ImportFile("urls", url_lines(_text(data, path)))


def detected(data: bytes) -> str | None:
    """The format the content shows: a zip is a changedetection.io backup (as is its
    url-watches.json alone), XML is OPML, lines that are all URLs are a list, and
    YAML documents with `url`, `navigate` or `command` keys are urlwatch jobs."""
    if data.startswith(ZIP_MAGIC):
        return "changedetection"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "opml"
    if head.startswith(b"{") and b'"watching"' in data:
        return "changedetection"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _comment(ln)]
    if lines and all(_URL_LINE.match(line) for line in lines):
        return "urls"
    if re.search(r"^(?:url|navigate|command)\s*:", text, re.MULTILINE):
        return "urlwatch"
    return None


def _sized(data: bytes, path: Path) -> bytes:
    if len(data) > MAX_TEXT_BYTES:
        raise UsageError(f"{path}: {len(data)} bytes; a text file to import is at most "
                         f"{MAX_TEXT_BYTES // 2**20} MB")
    return data


def _text(data: bytes, path: Path) -> str:
    try:
        return _sized(data, path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def url_lines(text: str) -> list[Entry]:
    """A plain list: one URL a line; blank lines and `#` comments skipped."""
    return [Entry(f"line {number}", line.strip())
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not _comment(line)]


def as_tag(label: str) -> str | None:
    """A label of another tool ("Human Rights", "Новости/Минюст") as one of our tags:
    NFC, lowercase, each run of other signs one '-', cut to TAG_MAX at a word; None
    when nothing of it can be a tag."""
    text = unicodedata.normalize("NFC", label).lower()
    words = re.findall(r"[^\W_]+", text)
    tag = ""
    for word in words:
        joined = f"{tag}-{word}" if tag else word
        if len(joined) > TAG_MAX:
            break
        tag = joined
    if not tag and words:
        tag = words[0][:TAG_MAX]
    return tag if tag and tag_problem(tag) is None else None


def carried_tags(entry: Entry, labels: list[str], what: str) -> None:
    """`labels` put on `entry` as tags; a label written otherwise, or dropped, is said."""
    for label in labels:
        tag = as_tag(label)
        if tag is None:
            entry.dropped.append(f"{what} {label!r}: nothing of it can be a tag")
            continue
        if tag != label.lower():  # a capital made small is not worth a line
            entry.changed.append(f"{what} {label!r}: tagged {tag!r} (tags are lowercase "
                                 "words joined by '-')")
        if tag not in entry.tags:
            entry.tags.append(tag)
