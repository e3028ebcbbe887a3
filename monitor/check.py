"""One check of one source: fetch -> extract -> normalize -> compare -> append.

An unchanged page costs no event: one compact row of the check ledger
(monitor.evidence.ledger), which the next checkpoint covers. A new content hash is
diffed against the stream's current version and recorded as VersionCaptured (+ ChangeDetected
when the diff has hunks) in one append with optimistic concurrency, so two
checkers racing on one source record the change once. A 404 becomes
DocumentRemoved only after it is seen on N consecutive checks, and so does what real
sites answer instead (a redirect to the home page, the section index or a shared
signpost, a page that says "not found", an API's null: monitor.removal), with the
rule that judged it; an answer with no text where the stored version has some is
recorded only when it is seen on N consecutive checks too (before that it is
FetchFailed `empty`); every other failure is a FetchFailed with a kind, and the
next success a SourceRecovered.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any

from monitor import catalog, trace
from monitor.clock import SYSTEM, Clock
from monitor.config import Config, SourceConfig
from monitor.diff import diff_documents
from monitor.errors import ConcurrencyConflict, FetchFailed, MonitorError, PersistenceError
from monitor.events import (
    ChangeDetected,
    DocumentPublished,
    Event,
    SourceReconfigured,
    SourceRecovered,
    VersionCaptured,
)
from monitor.evidence.ledger import FAILED, OUTCOMES, Ledger, raw_column
from monitor.failures import FailureLog, event_types
from monitor.fetch import Fetcher
from monitor.flaps import LEARNED, flap_events
from monitor.learning import FirstLoads
from monitor.listings import listed_items
from monitor.netguard import check_scope
from monitor.relearn import HOLD_SECONDS, RELEARNED, RelearnGate, relearned
from monitor.render.choice import keeps_screenshot, renders
from monitor.render.evidence import seen_blobs
from monitor.signposts import RedirectJudge
from monitor.sources import adapter_for
from monitor.sources.base import (
    Capture,
    NotModified,
    SourceAdapter,
    SourceSpec,
    Validators,
    learns_in_two_steps,
    learns_volatile,
)
from monitor.store import EventStore
from monitor.store.eventstore import Write
from monitor.store.pagekeys import PageKeys
from monitor.store.queries import source_by_stream, version_document
from monitor.store.rows import SourceRow
from monitor.store.snapshots import Blob, RecentRaw
from monitor.tags import tags_of

log = logging.getLogger("monitor.check")

CHECKABLE = ("active", "failing", "gone")
MAX_ATTEMPTS = 3
# One check (learning's three loads and its pause, then the capture) may take this
# many fetch deadlines in all ([fetch] deadline): its fetches share that budget.
CHECK_DEADLINES = 2


CHECK_OUTCOMES = ("unchanged", "captured", "changed", "published", "failed", "removed",
                  "skipped", "learning", "error")


@dataclass(frozen=True)
class CheckResult:
    source: str
    # unchanged | captured | changed | published | failed | removed | skipped: the page's
    # news, and failures of the page itself; learning: half done (see again_at); error:
    # the monitor failed (a bug, the store). Every one is in CHECK_OUTCOMES.
    outcome: str
    events: tuple[str, ...] = ()
    detail: str = ""
    ms: int = 0
    significance: str | None = None
    # Learning is half done: check this source again at this Unix time (time.time()),
    # not at its next interval. The schedulers honour it (monitor.daemon).
    again_at: float | None = None


@dataclass
class Checker:
    store: EventStore
    fetcher: Fetcher
    config: Config
    keep_raw: bool = True
    learn: bool = True  # learn volatile elements on a source's first check
    learn_delay: float | None = None  # seconds between the two loads (adapter default: 3)
    # Learn in two steps: the first load is kept (monitor.learning) and the check ends
    # with outcome `learning` and `again_at`, for the caller to check the source again
    # then (run_pass does), instead of a worker asleep between the loads.
    learn_later: bool = False
    first_loads: FirstLoads = field(default_factory=FirstLoads)
    recent_raw: RecentRaw = field(default_factory=RecentRaw)  # delta bases for first captures
    relearn: RelearnGate = field(default_factory=RelearnGate)  # monitor.relearn
    clock: Clock = SYSTEM  # times checks; a test gives it the store's ManualClock
    page_keys: PageKeys = field(init=False)
    redirects: RedirectJudge = field(init=False)  # home page, section, signpost
    # The rendering fetcher, found once (its settings parsed once) for the process that
    # found it: a forked process finds its own, as its browsers are its own.
    _renderer: tuple[int, Fetcher] | None = field(default=None, init=False, repr=False)
    failures: FailureLog = field(init=False)
    ledger: Ledger = field(init=False)  # a row per check: monitor.evidence.ledger

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.store.engine)
        self.page_keys = PageKeys(self.store.engine)
        self.redirects = RedirectJudge(self.store.engine)
        self.failures = FailureLog(self.store, self.config)

    def check(self, name: str, row: SourceRow | None = None) -> CheckResult:
        """Check one source by name. Never raises for page or network trouble, nor for
        a bug: what a crash means is monitor.one_check's (runners call its run_check).

        `row` is the source's row of the `sources` projection when the caller already
        read it (a pass reads them all at once); without it the check reads it. A
        row read a little earlier is safe: every append is conditional on the stream
        version the row holds, and a conflict re-reads the row and compares again.
        """
        started = self.clock.monotonic()
        with trace.tracing() as seen:
            try:
                # Learning's loads and the capture share one budget (see check_scope).
                with check_scope(CHECK_DEADLINES * self.fetcher.settings.deadline):
                    result = self._check(name, row)
            except Exception as exc:  # what a crash means: monitor.one_check
                from monitor.one_check import crash_result

                result = crash_result(self, name, exc)
        self._leave_trace(name, result, seen)
        ms = int((self.clock.monotonic() - started) * 1000)
        result = replace(result, ms=ms)
        log.info("check source=%s outcome=%s ms=%d%s", name, result.outcome, ms,
                 f" detail={result.detail!r}" if result.detail else "")
        return result

    def _leave_trace(self, name: str, result: CheckResult, seen: trace.Trace) -> None:
        """The check's row in the ledger (monitor.evidence.ledger), unless it went in
        with the check's own write (a page read: `_record_capture`); a check that did
        not get as far as recording anything leaves none."""
        if seen.ledgered:
            return
        try:
            write = self._ledger_row(name, result.outcome, seen)
            if write is not None:
                self.store.write([write])
        except MonitorError as exc:  # the check itself is recorded; its trace is lost
            log.warning("check of %s: its ledger row was not written: %s", name, exc)

    def _ledger_row(self, name: str, outcome_name: str, seen: trace.Trace) -> Write | None:
        """The insert of the check's ledger row as its trace says (None: no row)."""
        outcome = OUTCOMES.get(outcome_name)
        if outcome is None or not seen.noted:
            return None
        raw = None if outcome == FAILED else raw_column(seen.body, seen.version_raw)
        return self.ledger.row(name, self.store.clock(), seen.status, outcome, seen.version, raw)

    def _writes(self, row: SourceRow, outcome: str, seen: trace.Trace | None,
                key: tuple[str, str] | None) -> tuple[list[Write], tuple[str, str] | None]:
        """What a page read writes besides its events, in their transaction (one write
        lock a check): its ledger row (when the check is traced) and the page's key,
        (content hash, key), when that is new; and the key, for `_written`."""
        writes: list[Write] = []
        if seen is not None and (ledger_row := self._ledger_row(row.stream_id, outcome, seen)):
            writes.append(ledger_row)
        upsert = self.page_keys.write(row.stream_id, *key) if key else None
        if upsert is None:
            return writes, None
        return [*writes, upsert], key

    def _written(self, row: SourceRow, seen: trace.Trace | None,
                 key: tuple[str, str] | None) -> None:
        """The check's write committed: its ledger row is in, its page key recorded."""
        if seen is not None:
            seen.ledgered = True
        if key:
            self.page_keys.recorded(row.stream_id, *key)

    def _check(self, name: str, row: SourceRow | None = None) -> CheckResult:
        if row is None:
            row = source_by_stream(self.store.engine, name)
        if row is None:
            return CheckResult(name, "error", detail="no such source")
        if row.state not in CHECKABLE:
            return CheckResult(name, "skipped", detail=f"source is {row.state}")
        adapter = adapter_for(row.kind)
        learned_already = (row.options or {}).get("volatile_learned")
        if self.learn and learns_volatile(adapter) and not learned_already:
            learned = self._learn(row, adapter)
            if isinstance(learned, CheckResult):
                return learned  # half learned: come back at its again_at
            if isinstance(learned, FetchFailed):
                # The capture would fetch the same page again: one failure a check.
                return self._record_failure(row, learned)
            row = learned or row
        spec = spec_of(row)
        previous = None
        if row.document_version:
            key, others = (self.page_keys.known(row.stream_id, row.content_hash)
                           if adapter.page_keys else (None, frozenset()))
            previous = Validators(row.etag, row.last_modified, key, others)
        try:
            captured = adapter.capture(spec, self.fetcher_for(row), previous)
        except FetchFailed as exc:
            return self._record_failure(row, exc)
        if isinstance(captured, Capture) and (
                judged := self.redirects.judge(row.stream_id, row.url, captured)):
            return self._record_failure(row, FetchFailed(
                "not_found", f"{row.url}: {judged.said}", status=judged.evidence.get("status"),
                judged_by=judged.judged_by, evidence=judged.evidence))
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._record_capture(row, adapter, captured)
            except ConcurrencyConflict:
                # Another checker appended first: compare against what it recorded.
                row = source_by_stream(self.store.engine, name)
                if row is None or row.state not in CHECKABLE:
                    return CheckResult(name, "skipped", detail="changed while checking")
        return CheckResult(name, "error", detail="kept losing the race to other writers")

    def _learn(self, row: SourceRow, adapter: Any) -> SourceRow | FetchFailed | CheckResult | None:
        """Load the page twice and mask what differs; recorded as SourceReconfigured.
        A FetchFailed is returned, for the check to record and end on; with
        `learn_later`, a CheckResult `learning` when the next loads are not due yet."""
        try:
            spec = spec_of(row)
            if self.learn_delay is not None:
                spec = replace(spec, options={**spec.options, "learn_delay": self.learn_delay})
            if self.learn_later and learns_in_two_steps(adapter):
                step = self._learn_step(row, spec, adapter)
                if isinstance(step, CheckResult):
                    return step
                volatile = step
            else:
                volatile = adapter.learn_volatile(spec, self.fetcher_for(row))
        except FetchFailed as exc:
            self.first_loads.forget(row.stream_id)
            log.info("learning %s postponed: %s", row.name, exc)
            return exc
        return learn_record(self.store, row, volatile)

    def _learn_step(self, row: Any, spec: SourceSpec,
                    adapter: SourceAdapter) -> CheckResult | tuple[str, ...]:
        """The next step of learning in two steps: the first load (kept; come back
        after the adapter's pause), or, once that pause is over, the learned selectors."""
        pause = adapter.learn_after(spec)
        first = self.first_loads.get(row.stream_id, now=self.clock.time())
        if first is None:
            first = self.first_loads.keep(row.stream_id,
                                          adapter.learn_first(spec, self.fetcher_for(row)),
                                          at=self.clock.time())
        due = first.at + pause
        if self.clock.time() < due:
            return CheckResult(row.name, "learning", detail="learning what changes on every "
                               "load: the next loads are due in "
                               f"{max(0.0, due - self.clock.time()):.1f}s", again_at=due)
        volatile = adapter.learn_from(spec, self.fetcher_for(row), first.text)
        self.first_loads.forget(row.stream_id)
        return volatile

    def fetcher_for(self, row: SourceRow) -> Fetcher:
        """The plain fetcher, or for a source with `render = true` the process's
        rendering one (monitor.render), which shares the plain one's host gates."""
        if not renders(row.options):
            return self.fetcher
        if self._renderer is None or self._renderer[0] != os.getpid():
            from monitor.render.fetcher import shared_renderer
            from monitor.render.settings import render_settings

            self._renderer = (os.getpid(),
                              shared_renderer(render_settings(self.config), self.fetcher))
        return self._renderer[1]

    # --- success ---------------------------------------------------------
    def _record_capture(self, row: SourceRow, adapter: SourceAdapter,
                        captured: Capture | NotModified) -> CheckResult:
        recovered: list[Event] = [SourceRecovered(failures=row.failures)] if row.failures else []
        traced = trace.current()
        seen = traced or trace.Trace()
        seen.noted, seen.version, seen.version_raw = True, row.document_version, row.raw_hash
        if isinstance(captured, Capture):
            seen.body = captured.raw
        if isinstance(captured, NotModified) or (
            captured.document.content_hash == row.content_hash
        ):
            return self._unchanged(row, adapter, captured, recovered, traced)
        document = captured.document
        if not document.paragraphs and row.document_version:
            emptied = self._emptied(row, captured)
            if emptied is not None:
                return emptied
        if not document.paragraphs and document.title is None and not row.document_version:
            # A first version with no text would be the base every later version is
            # compared against (`regex:.*` made one). A title alone is text: a page
            # whose content is its attached file may hold nothing else.
            return self._record_failure(row, FetchFailed(
                "empty", f"{captured.final_url}: nothing is left of the page after the "
                "source's masks and selector (no title, no text); nothing is recorded"))
        # Bases for delta storage: the version this one replaces, else a sibling page.
        text = Blob.text(document.canonical_text(), base=row.content_hash)
        blobs = [text]
        raw_hash = raw_base = None
        if self.keep_raw and captured.raw:
            raw_base = row.raw_hash or self.recent_raw.get(captured.final_url)
            raw = Blob.raw(captured.raw, base=raw_base)
            blobs.append(raw)
            raw_hash = raw.sha256
        evidence = dict(captured.evidence)
        blobs += seen_blobs(captured, evidence,  # a browser's screenshot, main document
                            keeps_screenshot(row.options, bool(row.document_version)))
        new: list[Event] = [*recovered, VersionCaptured(
            content_hash=text.sha256, url=captured.final_url, title=document.title,
            published=document.published, raw_hash=raw_hash,
            content_type=captured.content_type, etag=captured.validators.etag,
            last_modified=captured.validators.last_modified, redirects=captured.redirects,
            evidence=evidence,
            items=tuple(item.to_data() for item in captured.items) if adapter.lists_items
            else None,
        )]
        outcome, significance = "captured", None
        if adapter.lists_items:
            published = self._published(row, adapter, captured)
            new += published
            outcome = "published" if published else "captured"
        elif row.document_version:
            assert row.content_hash is not None  # a stored version has its text's hash
            old = version_document(self.store.engine, row.stream_id)
            change = diff_documents(old, document)
            if not change.is_empty:
                significance = change.significance
                new.append(ChangeDetected(
                    from_hash=row.content_hash, to_hash=text.sha256,
                    significance=significance, classes=change.classes,
                    summary=change.summary(), change=change.to_stored(),
                ))
                flapped, reread = flap_events(self.store, row, change, text.sha256, captured,
                                              raw_hash, self.config.apply_proposed_masks)
                new, blobs = new + flapped, blobs + reread
                outcome = "changed"
        seen.version, seen.version_raw = row.document_version + 1, raw_hash
        writes, key = self._writes(row, outcome, traced, _page_key(captured))
        try:
            self.store.append(row.stream_id, row.stream_version, new, blobs=blobs, also=writes)
        except BaseException:
            seen.version, seen.version_raw = row.document_version, row.raw_hash
            raise
        self._written(row, traced, key)
        if raw_hash and raw_base is None:  # a chain's root: siblings start one deep
            self.recent_raw.remember(captured.final_url, raw_hash)
        return CheckResult(row.name, outcome, event_types(new), significance=significance)

    def _emptied(self, row: SourceRow, captured: Capture) -> CheckResult | None:
        """An answer with no text where the stored version has some: a failing API
        answering an empty item looks just like it, and was recorded as every
        paragraph removed, then added back. So it is a FetchFailed (`empty`) until it
        is seen on `not_found_confirmations` consecutive checks, as a removal is; then
        it is the change it is (None: record it)."""
        stored = version_document(self.store.engine, row.stream_id)
        if not stored.paragraphs:
            return None  # nothing to lose
        needed = self.config.not_found_confirmations
        if self.failures.streak(row, "empty") + 1 >= needed:
            return None
        count = len(stored.paragraphs)
        return self._record_failure(row, FetchFailed(
            "empty", f"{captured.final_url}: the answer has no text where the stored version "
            f"has {count} paragraph{'s' * (count != 1)} (recorded as a change once seen on "
            f"{needed} checks in a row)"))

    def _unchanged(self, row: SourceRow, adapter: SourceAdapter,
                   captured: Capture | NotModified, recovered: list[Event],
                   seen: trace.Trace | None) -> CheckResult:
        """The page gave the stored text. When its key missed (a Capture: the text was
        extracted), what differs from the stored page may be noise learning missed:
        masked, the next check's key hits (monitor.relearn). Its ledger row, page key
        and events, if any, take the write lock once."""
        learned, events = None, list(recovered)
        missed = isinstance(captured, Capture)
        now, tried = self.clock.time(), False
        if (self.learn and learns_volatile(adapter) and self.relearn.due(row.stream_id, missed)
                and self.page_keys.may_relearn(row.stream_id, now)):
            assert isinstance(captured, Capture)
            learned = relearned(self.store, row, spec_of(row), adapter, captured)
            tried = True
        key = _page_key(captured)
        if learned is not None:
            events.append(SourceReconfigured(changes={"volatile": list(learned.volatile)},
                                             reason=RELEARNED))
            log.info("learned on %s from an unchanged page: %s", row.name,
                     ", ".join(learned.added))
            key = (row.content_hash or "", learned.page_key)
        writes, key = self._writes(row, "unchanged", seen, key)
        if tried and learned is None:  # nothing to mask: don't pay for the comparison again soon
            writes.append(self.page_keys.hold(row.stream_id, int(now) + HOLD_SECONDS))
        try:
            self.store.append(row.stream_id, row.stream_version, events, also=writes)
        except PersistenceError as exc:
            if events:
                raise
            # No event lost: the key is only a cache, and the row is tried alone
            # (`_leave_trace`), as it was before it shared the key's transaction.
            log.warning("check of %s: its page key was not written: %s", row.name, exc)
            return CheckResult(row.name, "unchanged")
        self._written(row, seen, key)
        return CheckResult(row.name, "unchanged", event_types(events))

    def _published(self, row: SourceRow, adapter: SourceAdapter, captured: Capture) -> list[Event]:
        """Items the list shows now that its previous version did not."""
        if not row.document_version:
            return []  # the first read of a list is its baseline, not news
        before = listed_items(self.store.engine, row.stream_id)
        seen = {item.item_id for item in before}
        oldest = min((item.published for item in before if item.published), default=None)
        events: list[Event] = []
        for item in captured.items:
            if item.item_id in seen:
                continue
            if oldest and item.published and item.published < oldest:
                continue  # an old item moved up the page because a newer one vanished
            registered = None
            if row.follow and adapter.item_kind:
                registered = self._follow(row, item.url, adapter.item_kind)
            events.append(DocumentPublished(item_id=item.item_id, url=item.url,
                                            title=item.title, published=item.published,
                                            registered_as=registered))
        return events

    def _follow(self, row: SourceRow, url: str, kind: str) -> str | None:
        name = catalog.source_name(self.store, url, kind)
        # An article found on a list is filed under the list's tags (its board, its feeds).
        spec = SourceConfig(name=name, url=url, kind=kind,
                            interval_seconds=row.interval_seconds, language=row.language,
                            tags=tags_of(row.options))
        try:
            catalog.register(self.store, spec)
        except MonitorError as exc:
            log.warning("could not register %s from list %s: %s", url, row.name, exc)
            return None
        return name

    # --- failure ---------------------------------------------------------
    def _record_failure(self, row: SourceRow, exc: FetchFailed) -> CheckResult:
        outcome, events, detail = self.failures.record(row, exc)
        if (seen := trace.current()) is not None:
            seen.noted, seen.status, seen.version = True, exc.status or 0, None
        return CheckResult(row.name, outcome, events, detail=detail)


def _page_key(captured: Capture | NotModified) -> tuple[str, str] | None:
    """(content hash, page key) of a page read that has a key."""
    if isinstance(captured, Capture) and captured.validators.page_key:
        return captured.document.content_hash, captured.validators.page_key
    return None


def spec_of(row: SourceRow) -> SourceSpec:
    options = dict(row.options or {})
    return SourceSpec(
        name=row.name, url=row.url, kind=row.kind, language=row.language,
        selector=row.selector, ignore=tuple(row.ignore or ()),
        volatile=tuple(row.volatile or ()), follow=bool(row.follow),
        ca_bundle=options.get("ca_bundle"), options=options,
    )


def learn_record(store: EventStore, row: SourceRow,
                 volatile: tuple[str, ...]) -> SourceRow | None:
    """Record learned volatile selectors; returns the source's new row."""
    options = {**(row.options or {}), "volatile_learned": True}
    with contextlib.suppress(ConcurrencyConflict):
        store.append(row.stream_id, row.stream_version, [SourceReconfigured(
            changes={"volatile": list(volatile), "options": options},
            reason=LEARNED,
        )])
    return source_by_stream(store.engine, row.stream_id)
