"""OPML (a feed reader's subscriptions): `<outline>` elements in `<body>`.

An outline with `xmlUrl` is a feed, usually with `htmlUrl`, the site it feeds from; an
outline with neither (nor a `url`, OPML 2.0's link) holding other outlines is a folder,
and its title becomes a tag of every page in it. This monitor compares pages, so the
site (`htmlUrl`) is watched when the outline names one and its feed is reported; a
feed without a site is watched itself (each new item then reads as a change).

The XML is parsed by defusedxml with DTDs refused: an OPML file has no use for one, and
entities are how a file reads local files (XXE) or swells to gigabytes (billion laughs).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from monitor.errors import UsageError
from monitor.imports import Entry, ImportFile, carried_tags
from monitor.untrusted import one_line

MAX_DEPTH = 32  # folders in folders


def read_outlines(data: bytes, path: Path) -> ImportFile:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UsageError(f"{path}: refused: {type(exc).__name__} (an OPML file needs no DTD "
                         "or entities)") from None
    except ParseError as exc:
        raise UsageError(f"{path}: not valid XML: {one_line(str(exc), 120)}") from None
    if root.tag != "opml":
        raise UsageError(f"{path}: not OPML (its root element is <{one_line(root.tag, 40)}>, "
                         "not <opml>)")
    body = root.find("body")
    entries: list[Entry] = []
    stack: list[tuple[Element, tuple[str, ...]]] = [
        (child, ()) for child in reversed(list(body if body is not None else []))]
    while stack:
        outline, folders = stack.pop()
        if outline.tag != "outline":
            continue
        title = (outline.get("title") or outline.get("text") or "").strip()
        site, feed = outline.get("htmlUrl"), outline.get("xmlUrl")
        link = outline.get("url") if outline.get("type") in ("link", "include", None) else None
        if not (site or feed or link):
            if len(folders) >= MAX_DEPTH:
                raise UsageError(f"{path}: folders nested more than {MAX_DEPTH} deep")
            inner = (*folders, title) if title else folders
            stack.extend((child, inner) for child in reversed(list(outline)))
            continue
        entries.append(_outline(len(entries) + 1, title, site, feed, link, folders))
    return ImportFile("opml", entries)


def _outline(number: int, title: str, site: str | None, feed: str | None, link: str | None,
             folders: tuple[str, ...]) -> Entry:
    where = f"outline {number}" + (f" ({one_line(title, 60)})" if title else "")
    entry = Entry(where, None, name=title or None)
    if site and site.strip():
        entry.url = site.strip()
        if feed:
            entry.changed.append(f"feed {one_line(feed, 100)}: not watched; its site "
                                 "(htmlUrl) is")
    elif feed and feed.strip():
        entry.url = feed.strip()
        entry.changed.append("no htmlUrl: the feed itself is watched (a new item reads as "
                             "a change)")
    else:
        entry.url = (link or "").strip()
    carried_tags(entry, list(folders), "folder")
    return entry
