"""The report as an Atom 1.0 feed (RFC 4287), for feed readers.

Built with ElementTree, so every piece of page text is escaped by the XML
serializer; the entry content is HTML (type="html"), made by `render.hunk_html`
and therefore escaped once more inside. Entry ids are the events' ids, stable
across runs: `urn:govkz-monitor:event:<event_id>`; a feed's id names what it
selects, never where it is served (`feed_id`).

The web app serves the same feeds live (monitor/web/feeds.py): with the URL they
were read at (`rel="self"`) and entries that link to the app's diff pages.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

from markupsafe import Markup

from monitor import __version__
from monitor.changes.data import web_page
from monitor.changes.record import ChangeRecord
from monitor.changes.titles import record_label
from monitor.i18n import DEFAULT_READER, Reader
from monitor.moments import utc_iso
from monitor.report.escape import link_url, printable
from monitor.report.model import Report
from monitor.report.render import change_html
from monitor.report.text import last_stored, report_title

ATOM_NS = "http://www.w3.org/2005/Atom"
_FEED_ID = "urn:govkz-monitor:feed"


def feed_id(source_glob: str | None, min_significance: str | None,
            tag: str | None = None) -> str:
    """One stable id per kind of feed: all changes, or those a filter (or a tag of the
    sources) selects. The same wherever and by whichever host it is served."""
    parts = [_FEED_ID]
    if source_glob:
        parts.append("source:" + quote(source_glob, safe=""))
    if tag:
        parts.append("tag:" + quote(tag, safe=""))
    if min_significance:
        parts.append("min:" + min_significance)
    return ":".join(parts)


def report_atom(report: Report, *, feed_key: str | None = None, title: str | None = None,
                self_url: str | None = None, pages: str | None = None,
                reader: Reader = DEFAULT_READER) -> str:
    """`feed_key`: the feed's id (default: made of the report's filters); `self_url`:
    where the feed was read (`rel="self"`); `pages`: the web app's base URL, where each
    entry links to its diff page (default: the report's `[web] public_url`); `reader`: the
    timezone of the times in titles and entry texts (the dates are UTC)."""
    # Plain tag names under an xmlns attribute: ElementTree's default_namespace
    # option refuses the plain attribute names Atom uses (rel, href, term).
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _child(feed, "id", feed_key or feed_id(report.source_glob, report.min_significance))
    _child(feed, "title", f"govkz-monitor: {title or report_title(report, reader)}")
    if self_url:
        _link(feed, "self", self_url, "application/atom+xml")
    latest = max((c.detected_at for c in report.changes), default=report.generated_at)
    _child(feed, "updated", utc_iso(latest))
    author = ET.SubElement(feed, "author")
    _child(author, "name", "govkz-monitor")
    _child(feed, "generator", "govkz-monitor").set("version", __version__)
    for change in sorted(report.changes, key=lambda c: c.event_position, reverse=True):
        _entry(feed, change, pages or report.public_url, reader)
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _entry(feed: ET.Element, change: ChangeRecord, pages: str | None, reader: Reader) -> None:
    entry = ET.SubElement(feed, "entry")
    _child(entry, "id", f"urn:govkz-monitor:event:{change.event_id}")
    title = f"[{change.significance}] {record_label(change)}: {change.summary}"
    _child(entry, "title", title)
    _child(entry, "updated", utc_iso(change.detected_at))
    _child(entry, "published", utc_iso(change.detected_at))
    page = web_page(change, pages)
    if page:
        _link(entry, "alternate", page, "text/html")
    if link_url(change.url):
        _link(entry, "related" if page else "alternate", change.url)
    for name in change.classes:
        ET.SubElement(entry, "category").set("term", printable(name))
    _child(entry, "summary", change.summary)
    _child(entry, "content", str(_content_html(change, reader))).set("type", "html")


def _content_html(change: ChangeRecord, reader: Reader) -> Markup:
    link = (Markup('<a href="{0}">{0}</a>').format(change.url) if link_url(change.url)
            else Markup("{}").format(printable(change.url)))
    head = Markup("<p><strong>{}</strong></p><p>{} · {} · {} · {}</p><p>{}</p><p>{}</p>").format(
        record_label(change), printable(change.source), change.kind, change.significance,
        reader.moment(change.detected_at), printable(change.summary), link,
    )
    if last := last_stored(change, reader):
        head += Markup("<p>{}</p>").format(last)
    return head + change_html(change.hunks)


def _link(parent: ET.Element, rel: str, href: str, kind: str | None = None) -> None:
    link = ET.SubElement(parent, "link")
    link.set("rel", rel)
    link.set("href", printable(href))
    if kind:
        link.set("type", kind)


def _child(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, name)
    element.text = printable(text)
    return element

