"""A changedetection.io backup: the zip its Backup page makes, or its url-watches.json.

Older versions keep every watch in url-watches.json (`watching`: {uuid: watch}, and
`settings`, whose `application.tags` names each tag's uuid); newer ones keep settings
in changedetection.json and each watch in `<uuid>/watch.json`, each tag in
`<uuid>/tag.json`. Both are read. Only those JSON files are unpacked, each at most
MAX_TEXT_BYTES, however large the zip says they are: the snapshots in the watches'
folders are never unpacked (their history is not imported: the log records only what
this monitor saw itself).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from monitor.errors import UsageError
from monitor.imports import MAX_TEXT_BYTES, ZIP_MAGIC, Entry, ImportFile, carried_tags
from monitor.untrusted import one_line

MAX_MEMBERS = 500_000
_UUID_DIR = re.compile(r"^([0-9a-fA-F-]{36})/(watch|tag)\.json$")
_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_BROWSER = re.compile(r"webdriver|playwright|puppeteer|chrome|browser", re.IGNORECASE)
# Watch settings that change what is compared or sent, none of which is carried over.
_TEXT_RULES = ("ignore_text", "trigger_text", "extract_text", "text_should_not_be_present",
               "extract_lines_containing")


def read_backup(data: bytes, path: Path) -> ImportFile:
    if data.startswith(ZIP_MAGIC):
        documents, has_history = _unpacked(data, path)
    else:
        documents, has_history = {"url-watches.json": _json(data, path, path.name)}, False
    legacy = documents.get("url-watches.json") or {}
    current = documents.get("changedetection.json") or {}
    settings = _mapping(current.get("settings")) or _mapping(legacy.get("settings"))
    application = _mapping(settings.get("application"))
    watches = dict(_mapping(legacy.get("watching")))
    watches.update(_mapping(current.get("watching")))
    tag_titles = {uuid: _mapping(tag).get("title")
                  for uuid, tag in _mapping(application.get("tags")).items()}
    for member, document in documents.items():
        match = _UUID_DIR.match(member)
        if match and match.group(2) == "watch":
            watches.setdefault(match.group(1), document)
        elif match:
            tag_titles[match.group(1)] = _mapping(document).get("title")
    if not watches and not documents.get("url-watches.json") \
            and not documents.get("changedetection.json"):
        raise UsageError(f"{path}: not a changedetection.io backup (no url-watches.json, "
                         "changedetection.json or <uuid>/watch.json in it)")
    default = _seconds(_mapping(settings.get("requests")).get("time_between_check"))
    browser_default = _BROWSER.search(str(application.get("fetch_backend") or ""))
    entries = [_watch(uuid, _mapping(watch), tag_titles, default, bool(browser_default))
               for uuid, watch in watches.items()]
    notes = []
    if has_history:
        notes.append("history: the snapshots in the backup are not imported; the log "
                      "records only versions this monitor has read itself")
    if application.get("notification_urls"):
        notes.append(f"notification URLs ({len(application['notification_urls'])}): not "
                     "carried over; alert channels are [[alerts]] tables in monitor.toml")
    return ImportFile("changedetection", entries, notes)


def _unpacked(data: bytes, path: Path) -> tuple[dict[str, Any], bool]:
    """The backup's JSON documents by member name, and whether it holds snapshots."""
    wanted: dict[str, Any] = {}
    history = False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise UsageError(f"{path}: {len(members)} files in the zip; a backup to import "
                                 f"holds at most {MAX_MEMBERS}")
            read_total = 0
            for member in members:
                name = member.filename
                if name not in ("url-watches.json", "changedetection.json") \
                        and not _UUID_DIR.match(name):
                    history = history or ("/" in name and not member.is_dir())
                    continue
                with archive.open(member) as stream:
                    raw = stream.read(MAX_TEXT_BYTES + 1)
                read_total += len(raw)
                if len(raw) > MAX_TEXT_BYTES or read_total > 4 * MAX_TEXT_BYTES:
                    raise UsageError(f"{path}: {one_line(name, 80)} unpacks to more than "
                                     f"{MAX_TEXT_BYTES // 2**20} MB; refused (a zip bomb?)")
                wanted[name] = _json(raw, path, name)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError) as exc:
        raise UsageError(f"{path}: not a readable zip: {one_line(str(exc), 120)}") from None
    return wanted, history


def _json(raw: bytes, path: Path, member: str) -> Any:
    if len(raw) > MAX_TEXT_BYTES:
        raise UsageError(f"{path}: {member} is more than {MAX_TEXT_BYTES // 2**20} MB")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: {one_line(member, 80)} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: {one_line(member, 80)} is not JSON (line {exc.lineno}): "
                         f"{exc.msg}") from None
    except RecursionError:
        raise UsageError(f"{path}: {one_line(member, 80)} is nested too deep") from None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> int | None:
    """A time_between_check ({weeks, days, hours, minutes, seconds}) in seconds; None
    when it sets none."""
    parts = _mapping(value)
    total = 0
    for unit, size in _SECONDS.items():
        count = parts.get(unit)
        if isinstance(count, bool) or not isinstance(count, int | float | str):
            continue
        try:
            total += int(float(count)) * size
        except (ValueError, OverflowError):
            continue
    return total or None


def _watch(uuid: str, watch: dict[str, Any], tag_titles: dict[str, Any],
           default: int | None, browser_default: bool) -> Entry:
    title = watch.get("title")
    where = f"watch {uuid[:8]}" + (f" ({one_line(title, 60)})" if isinstance(title, str)
                                   and title else "")
    entry = Entry(where, None, name=title if isinstance(title, str) and title else None)
    url = watch.get("url")
    if not isinstance(url, str) or not url.strip():
        entry.skipped = "no url"
        return entry
    entry.url = url.strip()
    entry.paused = watch.get("paused") is True
    own = None if watch.get("time_between_check_use_default", False) is True else \
        _seconds(watch.get("time_between_check"))
    entry.interval_seconds = own or default
    _filters(entry, watch)
    _tags(entry, watch, tag_titles)
    backend = str(watch.get("fetch_backend") or "")
    if _BROWSER.search(backend) or (backend in ("", "system") and browser_default):
        entry.changed.append("fetched with a browser there; read without one here (its "
                             "scripts are not run)")
    steps = [s for s in watch.get("browser_steps") or [] if isinstance(s, dict)
             and s.get("operation") not in (None, "", "Choose one")]
    if steps:
        entry.dropped.append(f"browser steps ({len(steps)}): none are run here")
    if watch.get("processor") not in (None, "", "text_json_diff"):
        entry.changed.append(f"processor {one_line(str(watch['processor']), 30)}: watched "
                             "as the page's text")
    if watch.get("notification_urls"):
        entry.dropped.append("notification URLs: alert channels are [[alerts]] tables in "
                             "monitor.toml")
    for key in _TEXT_RULES:
        if watch.get(key):
            entry.dropped.append(f"{key}: no counterpart here (an ignore entry "
                                 "regex:PATTERN masks text)")
    if str(watch.get("method") or "GET").upper() != "GET" or watch.get("body"):
        entry.dropped.append("method and body: a source is read with GET")
    if watch.get("headers"):
        entry.dropped.append("headers: a source sends no headers of its own")
    if watch.get("proxy"):
        entry.dropped.append("proxy: the proxy is the process's (HTTP(S)_PROXY)")
    return entry


def _filters(entry: Entry, watch: dict[str, Any]) -> None:
    """include_filters as the selector (CSS ones joined by ',', XPath ones by '|', both
    kinds as one XPath), subtractive_selectors as ignore entries."""
    css, xpaths = [], []
    for value in _strings(entry, watch.get("include_filters"), "include_filters"):
        if value.startswith(("json:", "jq:", "jqraw:")):
            entry.dropped.append(f"include filter {one_line(value, 60)!r}: JSON filters have "
                                 "no counterpart here")
        elif (xpath := _xpath(value)) is not None:
            xpaths.append(xpath)
        else:
            css.append(value)
    if xpaths and css:
        from cssselect import GenericTranslator, SelectorError

        for value in css:
            try:
                xpaths.append(GenericTranslator().css_to_xpath(value))
            except SelectorError:
                entry.dropped.append(f"include filter {one_line(value, 60)!r}: not a CSS "
                                     "selector")
        if css:
            entry.changed.append("include filters: the CSS ones written as XPath, to be one "
                                 "selector with the XPath ones")
        css = []
    if xpaths:
        entry.selector = "xpath:" + " | ".join(xpaths)
    elif css:
        entry.selector = ", ".join(css)
    for value in _strings(entry, watch.get("subtractive_selectors"), "subtractive_selectors"):
        xpath = _xpath(value)
        entry.ignore.append(value if xpath is None else f"xpath:{xpath}")


def _xpath(value: str) -> str | None:
    """The XPath of a changedetection.io filter written as one ('xpath:…', 'xpath1:…'
    or starting with '/'), else None."""
    for prefix in ("xpath:", "xpath1:"):
        if value.startswith(prefix):
            return value[len(prefix):].strip()
    return value if value.startswith("/") else None


def _strings(entry: Entry, values: Any, key: str) -> list[str]:
    if values in (None, "", []):
        return []
    if isinstance(values, str):
        values = values.splitlines()
    if not isinstance(values, list):
        entry.dropped.append(f"{key}: not a list")
        return []
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _tags(entry: Entry, watch: dict[str, Any], tag_titles: dict[str, Any]) -> None:
    labels = []
    uuids = watch.get("tags")
    for uuid in uuids if isinstance(uuids, list) else []:
        title = tag_titles.get(uuid) if isinstance(uuid, str) else None
        if isinstance(title, str) and title.strip():
            labels.append(title.strip())
        else:
            entry.dropped.append(f"tag {one_line(str(uuid), 40)}: not named in the backup")
    old = watch.get("tag")  # before tags had uuids: "news, gov"
    if isinstance(old, str):
        labels += [label.strip() for label in old.split(",") if label.strip()]
    carried_tags(entry, labels, "tag")
