"""A sample alert, for `monitor alerts test`: a made-up change to a made-up page."""

from __future__ import annotations

import uuid

from monitor.alerts.alert import Alert
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.store.eventstore import utcnow

_BEFORE = Document("Sample press release", "2025-12-11", (
    "This is a test alert from govkz-monitor.",
    "The conference was attended by 120 delegates from 12 countries.",
))
_AFTER = Document("Sample press release", "2025-12-11", (
    "This is a test alert from govkz-monitor.",
    "The conference was attended by 150 delegates from 12 countries.",
))


def sample_alert() -> Alert:
    """A change alert with a fresh id each time, so no receiver drops it as a repeat."""
    change = diff_documents(_BEFORE, _AFTER)
    return Alert(
        id=f"test_{uuid.uuid4().hex}",
        kind="changed",
        event_id="0" * 32,
        event_position=0,
        source_name="sample-source",
        source_url="https://www.gov.kz/memleket/entities/mfa/press/news/details/sample?lang=en",
        detected_at=utcnow(),
        significance=change.significance,
        classes=change.classes,
        summary=change.summary(),
        hunks=change.hunks,
    )
