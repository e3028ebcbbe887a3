"""The one function that turns a change into its documented JSON
(monitor/schemas/change.schema.json): report JSON and webhook bodies are both
made by `change_data`, so they cannot drift apart.

Page text is carried as published, capped in size; whoever shows it escapes it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from monitor import classify
from monitor.changes.record import CHANGED, REMOVED, ChangeRecord, VersionRef
from monitor.diff import Hunk
from monitor.moments import utc_iso

MAX_HUNKS = 100  # hunks in one change; the rest are counted in hunks_omitted
MAX_HUNK_CHARS = 20_000  # old + new text of one hunk; longer ones are cut, without ops
MAX_TEXT_CHARS = 200_000  # a removed document's last text


def change_data(record: ChangeRecord, public_url: str | None = None) -> dict[str, Any]:
    """The change as JSON-ready data, in the shape of change.schema.json."""
    data: dict[str, Any] = {
        "kind": record.kind,
        "event_id": record.event_id,
        "event_position": record.event_position,
        "title": record.title,
        "source": {"name": record.source, "url": record.source_url},
        "url": record.url,
        "from_version": version_data(record.from_version),
        "to_version": version_data(record.to_version),
        "significance": record.significance,
        "summary": record.summary,
        "classes": list(dict.fromkeys(record.classes)),
        "hunks": [hunk_data(h) for h in record.hunks[:MAX_HUNKS]],
        "hunks_omitted": max(0, len(record.hunks) - MAX_HUNKS),
        "detected_at": utc_iso(record.detected_at),
        "links": change_links(record, public_url),
    }
    if record.removal is not None:
        text = record.removal.last_text
        data["removed"] = {
            "status": record.removal.status,
            "confirmations": record.removal.confirmations,
            "judged_by": record.removal.judged_by,
            "said": record.removal.said,
            "evidence": _evidence(record.removal.evidence),
            "last_text": text[:MAX_TEXT_CHARS],
            "last_text_truncated": len(text) > MAX_TEXT_CHARS,
        }
    if record.publication is not None:
        p = record.publication
        data["published"] = {"url": p.url, "title": p.title, "published": p.published,
                             "registered_as": p.registered_as}
    return data


def _evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    """What showed the removal, in the schema's fixed keys."""
    redirects = evidence.get("redirects")
    return {
        "final_url": evidence.get("final_url"),
        "status": evidence.get("status"),
        "phrase": evidence.get("phrase"),
        "redirects": list(redirects) if isinstance(redirects, list) else [],
    }


def version_data(version: VersionRef | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "number": version.number,
        "captured_at": utc_iso(version.captured_at),
        "text_hash": version.text_hash,
        "raw_hash": version.raw_hash,
        "title": version.title,
        "published": version.published,
        "url": version.url,
    }


def hunk_data(hunk: Hunk) -> dict[str, Any]:
    """One hunk: where it is (as data, and for people), its texts and word ops."""
    truncated = len(hunk.old) + len(hunk.new) > MAX_HUNK_CHARS
    half = MAX_HUNK_CHARS // 2
    return {
        "kind": hunk.kind,
        "significance": hunk.significance,
        "classes": list(hunk.classes),
        "location": location(hunk),
        "where": where(hunk),
        "old": hunk.old[:half] if truncated else hunk.old,
        "new": hunk.new[:half] if truncated else hunk.new,
        "ops": [] if truncated else [
            {"op": op.tag, "old": op.old, "new": op.new} for op in hunk.ops
        ],
        "truncated": truncated,
    }


def location(hunk: Hunk) -> dict[str, Any]:
    """{"field": "title" | "date" | "body", "old_paragraph", "new_paragraph"}, 1-based."""
    if hunk.kind in (classify.TITLE, classify.DATE):
        return {"field": hunk.kind, "old_paragraph": None, "new_paragraph": None}
    return {
        "field": "body",
        "old_paragraph": None if hunk.old_index is None else hunk.old_index + 1,
        "new_paragraph": None if hunk.new_index is None else hunk.new_index + 1,
    }


def where(hunk: Hunk) -> str:
    """Where the hunk is, for people, with 1-based paragraph numbers: 'paragraph 3'."""
    place = location(hunk)
    if place["field"] != "body":
        return str(place["field"])
    old, new = place["old_paragraph"], place["new_paragraph"]
    if new is None:
        return f"paragraph {old} of the previous version"
    if old is None or old == new:
        return f"paragraph {new}"
    if hunk.kind == classify.PARAGRAPH_MOVED:
        return f"paragraph {old} → {new}"
    return f"paragraph {new} (was {old})"


def links(source: str, url: str, public_url: str | None,
          commands: dict[str, str] | None = None) -> dict[str, Any]:
    """Where to read more: the document, the web app (when `[web] public_url` is
    set) and the same views from the command line."""
    found: dict[str, Any] = {"source": url}
    if public_url:
        found["history"] = f"{_base(public_url)}/sources/{quote(source, safe='')}"
    found["commands"] = {"history": f"monitor history {source}", **(commands or {})}
    return found


def change_links(record: ChangeRecord, public_url: str | None) -> dict[str, Any]:
    """The change's links (`links` in change.schema.json): its diff page, when the
    web app's address is known, the document, the commands."""
    commands: dict[str, str] = {}
    diff_url = None
    old, new = record.from_version, record.to_version
    if record.kind == CHANGED and old is not None and new is not None:
        commands["diff"] = f"monitor diff {record.source} --from {old.number} --to {new.number}"
        if public_url:
            query = urlencode({"from": old.number, "to": new.number})
            diff_url = f"{_base(public_url)}/sources/{quote(record.source, safe='')}/diff?{query}"
    if record.kind == REMOVED and old is not None:
        commands["show"] = f"monitor show {record.source}@{old.number}"
    found = links(record.source, record.url, public_url, commands)
    if diff_url:
        found["diff"] = diff_url
    if record.archive_url:
        found["archive"] = record.archive_url
    return found


def web_page(record: ChangeRecord, public_url: str | None) -> str | None:
    """The change's page in the web app: its diff, else the document's page; None
    when the app's address is not known."""
    if not public_url:
        return None
    found = change_links(record, public_url)
    page = found.get("diff") or found.get("history")
    return str(page) if page else None


def _base(public_url: str) -> str:
    return public_url.rstrip("/")
