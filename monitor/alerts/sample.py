"""A sample alert, for `monitor alerts test`: a made-up change to a made-up page."""

from __future__ import annotations

import uuid

from monitor.alerts.alert import Alert
from monitor.changes.data import change_data
from monitor.changes.record import ChangeRecord, VersionRef
from monitor.diff import diff_documents
from monitor.document import Document
from monitor.store.eventstore import utcnow

_TITLE = "Sample press release"
_BEFORE = Document(_TITLE, "2025-12-11", (
    "This is a test alert from govkz-monitor.",
    "The conference was attended by 120 delegates from 12 countries.",
))
_AFTER = Document(_TITLE, "2025-12-11", (
    "This is a test alert from govkz-monitor.",
    "The conference was attended by 150 delegates from 12 countries.",
))
_SOURCE = "sample-source"
_URL = "https://www.gov.kz/memleket/entities/mfa/press/news/details/sample?lang=en"


def sample_alert(public_url: str | None = None) -> Alert:
    """A change alert with a fresh id each time, so no receiver drops it as a repeat."""
    change = diff_documents(_BEFORE, _AFTER)
    now = utcnow()
    event_id = uuid.uuid4().hex
    old, new = (VersionRef(number, now, doc.content_hash, None, doc.title, doc.published, _URL)
                for number, doc in ((1, _BEFORE), (2, _AFTER)))
    record = ChangeRecord(
        event_position=0, event_id=event_id, kind="changed", source=_SOURCE, source_url=_URL,
        url=_URL, title=_TITLE, detected_at=now, significance=change.significance,
        classes=change.classes, summary=change.summary(), hunks=change.hunks,
        from_version=old, to_version=new,
    )
    return Alert(
        id=f"test_{uuid.uuid4().hex}", kind="changed",
        event_id=event_id, event_position=0, source_name=_SOURCE, source_url=_URL,
        detected_at=now, significance=change.significance, classes=change.classes,
        summary=change.summary(), title=_TITLE, record=record,
        data=change_data(record, public_url),
    )
