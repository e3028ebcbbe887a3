"""The dispatcher: from the log to the outbox, and from the outbox to the channels.

`enqueue` reads the log after the dispatcher's position and, in ONE
transaction per batch, inserts the deliveries those events call for and moves
the position: a crash leaves both or neither. `deliver_due` claims one due
delivery at a time — commits the claim (state 'sending' under a lease) before
sending, then records the outcome — so two dispatchers never send one alert
at once, and an alert whose sender died mid-way is sent again once the lease
runs out, with the same alert id for the receiver to drop the duplicate.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection

from monitor.alerts import confirmation, digest, outbox
from monitor.alerts.alert import alert_id
from monitor.alerts.channels import DeliveryFailed, Route, routes
from monitor.alerts.derive import Candidate, build_alert, candidate
from monitor.config import Config
from monitor.confirm import ConfirmPlan
from monitor.errors import MonitorError
from monitor.store import EventStore
from monitor.store.database import WRITE
from monitor.store.eventstore import utcnow

log = logging.getLogger("monitor.alerts")

CRASH_ENV = "MONITOR_TEST_CRASH_AT"
CRASH_POINTS = ("enqueue", "after_claim", "before_send", "after_send")
MAX_ERROR = 1000
_crash_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Crash injection for tests: with MONITOR_TEST_CRASH_AT=name (or name:N, the
    N-th time the point is reached) the process kills itself here with SIGKILL,
    as a power cut would. Without the variable it does nothing."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class DispatchSummary:
    enqueued: int = 0  # deliveries created from new events
    delivered: int = 0
    retrying: int = 0  # tries that failed and will be repeated
    dead: int = 0  # dead-lettered: the receiver refused, or the last try failed
    lost: int = 0  # claims that ran out while sending (another dispatcher took over)

    def __add__(self, other: DispatchSummary) -> DispatchSummary:
        return DispatchSummary(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                                  for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead + self.lost

    def __str__(self) -> str:
        return (f"{self.enqueued} enqueued, {self.delivered} delivered, "
                f"{self.retrying} to retry, {self.dead} dead")


@dataclass(frozen=True)
class Outcome:
    detail: str = ""  # what the channel said on success
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


class Dispatcher:
    """Turns new events into deliveries and sends the due ones.

    Several dispatchers may share one database (PostgreSQL or SQLite); those
    with the same `name` share one log position. The methods may be called
    from one thread at a time per instance (a lock makes overlapping calls wait).
    """

    def __init__(
        self,
        store: EventStore,
        config: Config,
        name: str = "default",
        *,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 500,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.name = name
        self.routes: dict[str, Route] = routes(config)  # ConfigError on a bad channel
        for route in self.routes.values():
            route.channel.attach(store)
        self.public_url = config.public_url  # links in alerts to the web app, when set
        self.confirm_plan = ConfirmPlan.of(config)  # changes that wait for a re-check
        try:
            self.backfill: timedelta | None = timedelta(seconds=config.alerts_backfill)
        except OverflowError:  # longer than timedelta holds: the whole log
            self.backfill = None
        self.clock = clock
        self.lease = lease
        self.batch = batch
        self.rand = rand
        self._lock = threading.RLock()
        self._position_ready = False

    def run_once(self) -> DispatchSummary:
        """Enqueue what the log calls for, then deliver what is due."""
        with self._lock:
            enqueued = self.enqueue()
            return replace(self.deliver_due(), enqueued=enqueued)

    # --- log -> outbox ----------------------------------------------------
    def enqueue(self) -> int:
        """Create deliveries for the events after our position; returns how many.
        Without any channel the position stays put: events wait for one."""
        with self._lock:
            if not self.routes:
                return 0
            engine = self.store.engine
            if not self._position_ready:
                # Once in a dispatcher's life: history older than the backfill is
                # not alerted on (a channel set up on an old store is not flooded).
                since: datetime | None = None
                if self.backfill is not None:
                    try:
                        since = self.clock() - self.backfill
                    except OverflowError:  # a backfill reaching past year 1: all of it
                        since = None
                outbox.ensure_position(engine, self.name, since)
                self._position_ready = True
            created = 0
            while True:
                with engine.connect().execution_options(**WRITE) as conn, conn.begin():
                    position = outbox.locked_position(conn, self.name)
                    rows = outbox.events_after(conn, position, self.batch)
                    if not rows:
                        return created
                    created += outbox.add(conn, self._deliveries(conn, rows))
                    outbox.save_position(conn, self.name, rows[-1].position)
                    crash_point("enqueue")
                if len(rows) < self.batch:
                    return created

    def _deliveries(self, conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        for row in rows:
            found = candidate(conn, row)
            if found is not None:
                new.extend(self._delivery(found, route) for route in self.routes.values()
                           if found.wanted_by(route.policy))
        confirmation.hold(conn, new, self.confirm_plan)
        return new

    def _delivery(self, found: Candidate, route: Route) -> dict[str, Any]:
        now, channel, period = self.clock(), route.name, route.audience.digest
        held = period is not None  # a digest channel's alert waits for its period's end
        return {
            "alert_id": alert_id(found.event_id, channel), "event_position": found.event_position,
            "event_id": found.event_id, "stream_id": found.stream_id, "channel": channel,
            "kind": found.kind, "summary": found.summary[:500],
            "state": digest.HELD if held else "pending", "attempts": 0,
            "next_attempt_at": (digest.period_end(now, period, route.audience.reader)
                                if period is not None else now),
            "created_at": now,
        }

    # --- outbox -> channels -----------------------------------------------
    def deliver_due(self, limit: int = 100) -> DispatchSummary:
        """Try up to `limit` due deliveries. A channel whose try failed is left
        alone for the rest of this call, so a receiver that is down costs one
        try per call, not one per waiting alert."""
        with self._lock:
            if self.routes:  # changes whose confirmation is known become due (or join a digest)
                confirmation.release(self.store.engine, self.confirm_plan, self.routes,
                                     self.clock())
            periods = {name: route.audience.digest for name, route in self.routes.items()
                       if route.audience.digest is not None}
            digest.bundle_due(self.store.engine, periods, self.clock(),
                              single=set(self.routes) - set(periods))
            summary = DispatchSummary()
            resting: set[str] = set()
            for _ in range(limit):
                claimed = self._claim(set(self.routes) - resting)
                if claimed is None:
                    break
                row, token = claimed
                crash_point("after_claim")
                outcome = self._attempt(row)
                crash_point("after_send")
                state = self._record(row, token, outcome)
                if state == "retrying":
                    resting.add(row.channel)
                summary = summary + _counted(state)
            return summary

    def _claim(self, channels: set[str]) -> tuple[Any, str] | None:
        now, token = self.clock(), uuid.uuid4().hex
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            row = outbox.claim(conn, channels, now, now + self.lease, token)
        return None if row is None else (row, token)

    def _attempt(self, row: Any) -> Outcome:
        route = self.routes[row.channel]
        send: Callable[[], str]
        try:
            with self.store.engine.connect() as conn:
                if row.kind == digest.KIND:
                    bundle = digest.load(conn, row, route.audience.digest, self.public_url)
                    send = partial(route.channel.send_digest, bundle)
                else:
                    send = partial(route.channel.send, build_alert(conn, row, self.public_url))
        except (MonitorError, KeyError, TypeError, ValueError) as exc:  # a malformed event
            return Outcome(error=f"cannot build the alert: {exc!r}", permanent=True)
        crash_point("before_send")
        scrub = route.channel.scrub  # what is said about a channel keeps its secrets
        try:
            return Outcome(detail=send())
        except DeliveryFailed as exc:
            return Outcome(error=scrub(str(exc)), permanent=exc.permanent,
                           retry_after=exc.retry_after)
        except MonitorError as exc:  # a missing secret: fixable, so tried again later
            return Outcome(error=scrub(str(exc)))
        except Exception as exc:  # a bug in one channel must not stop the others
            log.error("channel %s crashed sending %s\n%s", row.channel, row.alert_id,
                      scrub("".join(traceback.format_exception(exc))).rstrip())
            return Outcome(error=scrub(f"{type(exc).__name__}: {exc}"))

    def _record(self, row: Any, token: str, outcome: Outcome) -> str:
        policy = self.routes[row.channel].policy
        now = self.clock()
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "next_attempt_at": now}
        if outcome.error is None:
            values.update(state="delivered", delivered_at=now, last_error=None)
        elif outcome.permanent or attempts >= policy.max_attempts:
            values.update(state="dead", last_error=outcome.error[:MAX_ERROR])
        else:
            wait = policy.retry_delay(attempts, self.rand)
            if outcome.retry_after:
                wait = max(wait, min(outcome.retry_after, policy.retry_max))
            values.update(state="retrying", last_error=outcome.error[:MAX_ERROR],
                          next_attempt_at=now + timedelta(seconds=wait))
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            kept = outbox.finish(conn, row.id, token, **values)
        state = values["state"] if kept else "lost"
        log.info("alert %s channel=%s kind=%s state=%s attempt=%d %s", row.alert_id,
                 row.channel, row.kind, state, attempts, outcome.error or outcome.detail)
        return str(state)


def _counted(state: str) -> DispatchSummary:
    fields = {"delivered", "retrying", "dead", "lost"}
    return DispatchSummary(**{state: 1}) if state in fields else DispatchSummary()
