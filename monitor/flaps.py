"""Flapping parts of a page, seen after learning: masks proposed for them.

Learning compares three loads seconds apart; a banner that rotates hourly, or a
relative time inside a long line, passes it and then alerts. The checks that follow
are more evidence, and this module reads it — only when a change is being recorded,
so an unchanged check pays nothing.

Policy. A change flaps when
- it reverts: the new text is one of the `REVERT_WINDOW` versions before the current
  one (A→B→A);
- or it changes alone again: this change and the one before it each changed one
  short paragraph (under `MAX_VOLATILE_CHARS`), the same one, and nothing else.
The masks proposed are those the learner finds between the page as it was stored
(its raw bytes) and the page as it came now: what differs between them is the flap.
Only masks of elements with text that no mask covers yet are proposed; none when the
flap is in a long paragraph (that may be an editor at work, never masked unasked).

The change itself is always recorded and alerts as any other (a reverted statement is
news). The proposal is a `MasksProposed` event in the source's stream; `monitor
sources --show NAME` lists the pending ones and `monitor learn NAME --accept` applies
them (a SourceReconfigured). Never applied unasked, unless `[defaults]
apply_proposed_masks = true`: then they are applied in the same append as the change
that revealed them, so the same noise cannot alert a second time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from monitor.content import UndecodableText, decode
from monitor.diff import Change
from monitor.errors import MonitorError
from monitor.events import Event, MasksProposed, SourceReconfigured, VersionCaptured
from monitor.sources import adapter_for, masking
from monitor.sources.base import Capture
from monitor.sources.blocks import parse_html, text_of
from monitor.sources.volatile import MAX_VOLATILE_CHARS, volatile_selectors
from monitor.store import EventStore
from monitor.store.mapper import StoredEvent
from monitor.store.rows import SourceRow
from monitor.store.snapshots import Blob, get_blob

REVERT_WINDOW = 5  # versions
HISTORY_EVENTS = 40  # the stream's tail read to find them
LEARNED = "learned volatile elements"  # SourceReconfigured reason of `monitor learn`
APPLIED = "applied proposed masks"


def flap_events(store: EventStore, row: SourceRow, change: Change, new_hash: str,
                captured: Capture, raw_hash: str | None,
                apply: bool) -> tuple[list[Event], list[Blob]]:
    """MasksProposed (and, when `apply`, the events that apply it: see `masks_applied`)
    for a change that flaps; nothing for one that does not."""
    raw = captured.raw
    if not raw or not raw_hash or not row.raw_hash:
        return [], []  # no page to compare: raw bytes are not kept (keep_raw = false)
    if not hasattr(adapter_for(row.kind), "reread"):
        return [], []  # masks are for web pages (an API answer, a PDF has no elements)
    history = store.read_stream(row.stream_id, max(1, row.stream_version - HISTORY_EVENTS))
    reason = flap_reason(history, new_hash, change)
    if reason is None:
        return [], []
    with store.engine.connect() as conn:
        before = get_blob(conn, row.raw_hash)
    existing = tuple(row.volatile or ())
    try:
        pages = decode(before, None), decode(raw, None)
    except UndecodableText:
        return [], []
    masks = proposed_masks(*pages, masking.css_masks(row.ignore or (), existing))
    if not masks:
        return [], []
    events: list[Event] = [MasksProposed(volatile=masks, reason=reason,
                                         from_hash=row.content_hash, to_hash=new_hash)]
    if not apply:
        return events, []
    applied, blobs = masks_applied(row, (*existing, *masks), raw, raw_hash,
                                   captured.final_url, new_hash)
    return events + applied, blobs


def masks_applied(row: SourceRow, volatile: tuple[str, ...], raw: bytes | None,
                  raw_hash: str | None, url: str,
                  current_hash: str | None) -> tuple[list[Event], list[Blob]]:
    """The SourceReconfigured that sets `volatile`, and the current version read again
    from its stored page under the new masks (a VersionCaptured with no change, as the
    page did not change): without it, the next check would take the masked noise's
    going for a change of the page, and alert."""
    from monitor.check import spec_of  # check uses this module

    events: list[Event] = [SourceReconfigured(changes={"volatile": list(volatile)},
                                              reason=APPLIED)]
    reread = getattr(adapter_for(row.kind), "reread", None)
    if reread is None or not raw:
        return events, []
    try:
        document = reread(replace(spec_of(row), volatile=volatile), raw, url)
    except MonitorError:
        return events, []  # the next check records what it reads
    text = Blob.text(document.canonical_text(), base=row.content_hash)  # stored already
    if text.sha256 == current_hash:
        return events, []
    events.append(VersionCaptured(content_hash=text.sha256, url=url, title=document.title,
                                  published=document.published, raw_hash=raw_hash))
    return events, [text]


def flap_reason(history: list[StoredEvent], new_hash: str, change: Change) -> str | None:
    """Why the change that leads to `new_hash` flaps, or None when it does not."""
    hashes = [e.data["content_hash"] for e in history
              if e.type in ("VersionCaptured", "BaselineImported")]
    if new_hash in hashes[-REVERT_WINDOW - 1:-1]:
        return "reverted to an earlier version"
    last = _last_change(history)
    hunk, before = _lone_hunk(change), _lone_hunk(last) if last else None
    if hunk is not None and before is not None and before.new_index == hunk.old_index:
        return "the same short paragraph changed alone twice in a row"
    return None


def _last_change(history: list[StoredEvent]) -> Change | None:
    """The change that made the current version, when the current version came with one."""
    for event in reversed(history):
        if event.type == "ChangeDetected":
            return Change.from_dict(event.data["change"])
        if event.type in ("VersionCaptured", "BaselineImported"):
            continue  # the ChangeDetected of a capture follows its VersionCaptured
    return None


def _lone_hunk(change: Change | None) -> Any:
    if change is None or len(change.hunks) != 1:  # a title change is a hunk too
        return None
    hunk = change.hunks[0]
    short = max(len(hunk.old), len(hunk.new)) < MAX_VOLATILE_CHARS
    return hunk if short and hunk.old_index is not None and hunk.new_index is not None else None


def proposed_masks(before: str, after: str, existing: tuple[str, ...]) -> tuple[str, ...]:
    """Masks for the elements with text that differ between two loads of a page and
    that no `existing` mask covers (those differ on every load: they are masked now)."""
    root = parse_html(after)
    covered = set(masking.select_any(root, existing)) if existing else set()
    proposed: list[str] = []
    for mask in volatile_selectors(before, after):
        if " @" in mask or mask in existing:
            continue  # an attribute is never text: it cannot make a change
        elements = masking.select(root, mask)
        if any(text_of(e).strip() and e not in covered
               and not any(a in covered for a in e.iterancestors()) for e in elements):
            proposed.append(mask)
    return tuple(proposed)


def pending_masks(history: list[StoredEvent], row: SourceRow) -> tuple[str, ...]:
    """Masks proposed since the source was last learned that it does not use yet."""
    used = {*(row.volatile or ()), *(row.ignore or ())}
    pending: dict[str, None] = {}
    for event in history:
        if event.type == "SourceReconfigured" and event.data.get("reason") == LEARNED:
            pending.clear()  # learned afresh: older proposals are about another layout
        elif event.type == "MasksProposed":
            pending.update(dict.fromkeys(event.data.get("volatile") or ()))
    return tuple(m for m in pending if m not in used)
