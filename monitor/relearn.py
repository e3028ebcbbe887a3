"""Volatile elements learned again from a check that found the page unchanged the
long way: its page key missed, the full extraction ran, and the text was the stored
one.

Learning compares three loads seconds apart; a banner rotating among a few texts, or
a shuffled list, can come up the same on all three. It is then not masked, and every
later check of the unchanged page misses its key (monitor.sources.pagekey) and pays a
full extraction. Such a check holds the evidence learning lacked: the page as stored
with the current version (its raw bytes) and the page as it came now give the same
text, so what differs between them (found by the learner, monitor.sources.volatile)
is noise around the text. Masked, the next check's key hits.

Bounds, so that this never hides a change:
- the masks are the learner's (small elements, attributes, scripts: never a paragraph
  or a block), and only those no mask of the source has yet, at most `MAX_NEW_MASKS`
  (more differences than that is a page that changed around its text, not noise);
- this page read again under the new masks must give exactly the stored text: a mask
  that removes anything the extraction reads (the article's text) is never recorded;
- at most one attempt per source in `EVERY_CHECKS` checks (per process; RelearnGate),
  and, after an attempt that found nothing to mask, none for `HOLD_SECONDS` (kept with
  the page key, migration 0011, so `check --all` from cron holds off too): a page whose
  differences cannot be masked pays for the comparison rarely.
Recorded as a SourceReconfigured of the source's `volatile` (reason `RELEARNED`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from monitor.content import UndecodableText, decode
from monitor.errors import MonitorError
from monitor.sources import masking
from monitor.sources.base import Capture, SourceSpec
from monitor.sources.blocks import parse_html
from monitor.sources.pagekey import page_key
from monitor.sources.volatile import volatile_selectors
from monitor.store import EventStore
from monitor.store.rows import SourceRow
from monitor.store.snapshots import get_blob

MAX_NEW_MASKS = 4
EVERY_CHECKS = 20
HOLD_SECONDS = 24 * 3600  # after an attempt that found nothing to mask
log = logging.getLogger(__name__)

RELEARNED = "learned volatile elements from an unchanged page"


@dataclass(frozen=True)
class Relearned:
    volatile: tuple[str, ...]  # the source's masks, the new ones included
    added: tuple[str, ...]
    page_key: str  # this page's key under them, for the text it gave


class RelearnGate:
    """Per source, how many checks to let pass before the next attempt. Thread-safe."""

    def __init__(self, every: int = EVERY_CHECKS) -> None:
        self.every = every
        self._wait: dict[str, int] = {}
        self._lock = threading.Lock()

    def due(self, stream_id: str, missed: bool) -> bool:
        """Count one unchanged check; whether this one (a key miss) may try."""
        with self._lock:
            wait = self._wait.pop(stream_id, 0)
            if wait > 1:
                self._wait[stream_id] = wait - 1
                return False
            if wait == 1 or not missed:
                return False
            if self.every > 1:
                self._wait[stream_id] = self.every - 1
            return True


def relearned(store: EventStore, row: SourceRow, spec: SourceSpec, adapter: Any,
              captured: Capture) -> Relearned | None:
    """New masks for what differs between the stored page and `captured`, which gave
    the stored text; None when there are none that keep that text."""
    reread = getattr(adapter, "reread", None)
    if reread is None or not captured.raw or not row.raw_hash or not row.content_hash:
        return None  # no page to compare (raw pages not kept), or not a web page
    try:
        with store.engine.connect() as conn:
            before = decode(get_blob(conn, row.raw_hash), None)
        now = decode(captured.raw, None)
    except (UndecodableText, MonitorError):
        return None
    existing = tuple(spec.volatile)
    added = _new_masks(before, now, masking.css_masks(spec.ignore, existing))
    if not added or len(added) > MAX_NEW_MASKS:
        log.debug("%s: %d new masks, none recorded", row.name, len(added))
        return None
    masked = replace(spec, volatile=(*existing, *added))
    try:
        document = reread(masked, captured.raw, captured.final_url)
    except MonitorError:
        return None
    if document.content_hash != row.content_hash:
        log.debug("%s: masks %s would change the text, not recorded", row.name, added)
        return None  # a new mask would change the text: it is not only noise
    root = parse_html(now)
    masking.remove_masked(root, masking.css_masks(masked.ignore, masked.volatile))
    return Relearned(masked.volatile, added, page_key(masked, captured.final_url, root))


def _new_masks(before: str, now: str, existing: tuple[str, ...]) -> tuple[str, ...]:
    """The learner's masks for what differs, without those the existing ones cover."""
    root = parse_html(now)
    covered = set(masking.select_any(root, existing)) if existing else set()
    new: list[str] = []
    for mask in volatile_selectors(before, now):
        if mask in existing:
            continue
        elements = masking.select(root, mask.rsplit(" @", 1)[0])
        if any(e not in covered and not any(a in covered for a in e.iterancestors())
               for e in elements):
            new.append(mask)
    return tuple(new)
