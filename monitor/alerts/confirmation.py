"""Alerts that wait for a change to be confirmed (see monitor.confirm).

A `changed` delivery is held (state `confirming`) when its source or its channel
asks for confirmation. It is released when the change's ChangeRechecked is in the
log, or, if none comes (no daemon ran, a fetch hung), `GRACE` after the delay, then
settled from the log as it stands:

- confirmed, changed again, unchecked: the `changed` alert goes out as usual;
- reverted (A→B→A within the delay): by the channel's `reverted` policy, ONE alert
  of kind `reverted` (the change, its versions, and the version that went back), or
  none (state `dropped`). Either way the change back does not alert on that channel
  as a change of its own: it is part of the `reverted` story.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select, update

from monitor.alerts import digest
from monitor.alerts.alert import Alert
from monitor.alerts.schema import deliveries
from monitor.changes.data import change_data
from monitor.changes.load import load_change
from monitor.confirm import GRACE, ConfirmPlan, Decision, decide, events_after, recheck_of
from monitor.errors import MonitorError
from monitor.moments import utc_iso
from monitor.store.database import WRITE
from monitor.store.schema import events, sources

if TYPE_CHECKING:
    from monitor.alerts.channels import Route

log = logging.getLogger("monitor.alerts")

HELD = "confirming"
DROPPED = "dropped"


def hold(conn: Connection, rows: list[dict[str, Any]], plan: ConfirmPlan) -> None:
    """Mark the new `changed` deliveries that must wait for their change's re-check."""
    found: dict[str, tuple[str, Any]] = {}
    for row in rows:
        if row["kind"] != "changed":
            continue
        stream = row["stream_id"]
        if stream not in found:
            source = conn.execute(select(sources.c.name, sources.c.options)
                                  .where(sources.c.stream_id == stream)).first()
            found[stream] = (source.name, source.options) if source else (stream, {})
        name, options = found[stream]
        if max(plan.source_delay(options), plan.channel_delay(row["channel"], name)) > 0:
            row["state"] = HELD


def release(engine: Engine, plan: ConfirmPlan, routes: Mapping[str, Route],
            now: datetime) -> int:
    """Settle the held deliveries whose change is settled; returns how many."""
    with engine.connect() as conn:  # most ticks hold nothing: no write lock for them
        if conn.execute(select(deliveries.c.id).where(deliveries.c.state == HELD)
                        .limit(1)).first() is None:
            return 0
    settled = 0
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        held = list(conn.execute(select(deliveries).where(deliveries.c.state == HELD)
                                 .order_by(deliveries.c.id)))
        decisions: dict[str, tuple[str | None, Decision | None]] = {}
        for row in held:
            route = routes.get(row.channel)
            if route is None:
                continue  # the channel is gone: the row waits for it, as others do
            if row.event_id not in decisions:
                decisions[row.event_id] = _decision(conn, row, plan, now)
            undoes, own = decisions[row.event_id]
            decision = _undoing(conn, row, undoes) if undoes else None
            decision = decision or own
            if decision is None or decision.outcome == "wait":
                continue
            _settle(conn, row, decision, route, now)
            settled += 1
    return settled


def _decision(conn: Connection, row: Any, plan: ConfirmPlan,
              now: datetime) -> tuple[str | None, Decision | None]:
    """The change this one undoes (if it is the change back of a `reverted` one), and
    what became of this one itself (None: not known yet)."""
    change = conn.execute(select(events).where(events.c.event_id == row.event_id)).first()
    if change is None:
        return None, Decision("unchecked")
    return _reverted_by(conn, change), _own(conn, change, plan, now)


def _own(conn: Connection, change: Any, plan: ConfirmPlan, now: datetime) -> Decision | None:
    later = events_after(conn, change.stream_id, change.version)
    done = recheck_of(later, change.event_id)
    if done is not None:
        return Decision(done.data["outcome"], done.data.get("by"))
    source = conn.execute(select(sources.c.name, sources.c.options)
                          .where(sources.c.stream_id == change.stream_id)).first()
    name, options = (source.name, source.options) if source else (change.stream_id, {})
    until = change.recorded_at + timedelta(seconds=plan.delay(name, options) + GRACE)
    if now < until:
        return None
    log.info("change %s: no re-check came within %gs; settled from the log",
             change.event_id, plan.delay(name, options) + GRACE)
    return decide(change.data, [e for e in later if e.recorded_at <= until]) or \
        Decision("unchecked")


def _reverted_by(conn: Connection, change: Any) -> str | None:
    """The change that `change` undid (it is the `by` of its `reverted` ChangeRechecked)."""
    rechecks = conn.execute(select(events.c.data).where(
        events.c.stream_id == change.stream_id, events.c.type == "ChangeRechecked",
        events.c.version > change.version))
    for (data,) in rechecks:
        if data.get("outcome") == "reverted" and data.get("by") == change.event_id:
            return str(data["change_id"])
    return None


def _undoing(conn: Connection, row: Any, undone: str) -> Decision | None:
    """For the change back of a reverted change: dropped where the reverted change was
    told as `reverted` (or not at all), settled with it when it waits (`wait`); None
    where the channel had no alert of it (the change back is then a change as any)."""
    first = conn.execute(select(deliveries.c.kind, deliveries.c.state).where(
        deliveries.c.event_id == undone, deliveries.c.channel == row.channel)).first()
    if first is None:
        return None
    if first.state == HELD:
        return Decision("wait")  # settled with the change it undoes, which comes first
    if first.kind == "reverted" or first.state == DROPPED:
        return Decision("undoes", undone)
    return None


def _due(route: Route, now: datetime) -> dict[str, Any]:
    """A settled change goes out now, or, on a digest channel, joins the open period."""
    period = route.audience.digest
    if period is None:
        return {"state": "pending", "next_attempt_at": now}
    return {"state": digest.HELD,
            "next_attempt_at": digest.period_end(now, period, route.audience.reader)}


def _settle(conn: Connection, row: Any, decision: Decision, route: Route,
            now: datetime) -> None:
    values: dict[str, Any] = {"next_attempt_at": now}
    policy = route.policy
    if decision.outcome == "undoes":
        values.update(state=DROPPED, last_error=f"changes back event {decision.by}, "
                      "which this channel was told of as reverted (or not at all)")
    elif decision.outcome == "reverted" and policy.reverted == "alert":
        values.update(_due(route, now), kind="reverted",
                      summary=f"changed, then changed back: {row.summary}"[:500])
    elif decision.outcome == "reverted":
        values.update(state=DROPPED, last_error="changed back within the confirmation "
                      "delay; dropped (reverted = \"drop\")")
    else:
        values.update(_due(route, now))
    conn.execute(update(deliveries).where(deliveries.c.id == row.id,
                                          deliveries.c.state == HELD).values(**values))
    if decision.outcome == "reverted" and decision.by:
        # The change back, if enqueued already, is part of this story on this channel.
        conn.execute(update(deliveries).where(
            deliveries.c.event_id == decision.by, deliveries.c.channel == row.channel,
            deliveries.c.state.in_((HELD, digest.HELD, "pending"))).values(
            state=DROPPED, next_attempt_at=now,
            last_error=f"changes back event {row.event_id}, alerted as reverted"
            if policy.reverted == "alert" else f"changes back event {row.event_id}, "
            "dropped with it (reverted = \"drop\")"))
    said = "changes back an earlier change" if decision.outcome == "undoes" else decision.outcome
    log.info("alert %s channel=%s: change %s; %s", row.alert_id, row.channel, said,
             "dropped" if values.get("state") == DROPPED
             else f"due as {values.get('kind', row.kind)}")


def reverted_alert(conn: Connection, common: dict[str, Any], row: Any,
                   public_url: str | None) -> Alert:
    """The `reverted` alert: the change, its versions, and the change that undid it."""
    record = load_change(conn, row.position)
    if record is None:
        raise MonitorError(f"event {row.event_id} has no row in the changes projection; "
                           "run `monitor rebuild`")
    later = events_after(conn, row.stream_id, row.version)
    recheck = recheck_of(later, row.event_id)
    # Without a re-check (none ran in time) the release settled it from the log alone.
    decision = (Decision(recheck.data["outcome"], recheck.data.get("by"))
                if recheck is not None else decide(row.data, later))
    back = next((e for e in later if decision and e.event_id == decision.by), None)
    if decision is None or decision.outcome != "reverted" or back is None:
        raise MonitorError(f"event {row.event_id} was not recorded as reverted")
    back_record = load_change(conn, back.position)
    back_version = change_data(back_record)["to_version"] if back_record else None
    after = _delay_words((back.recorded_at - row.recorded_at).total_seconds())
    number = back_record.to_version.number if back_record and back_record.to_version else "?"
    before = record.from_version.number if record.from_version else "?"
    summary = (f"changed, then changed back {after} later (version {number} has the text "
               f"of version {before} again): {record.summary}")
    data = {**change_data(record, public_url), "summary": summary, "reverted": {
        "event_id": back.event_id, "event_position": back.position,
        "detected_at": utc_iso(back.recorded_at), "to_version": back_version,
        "confirm_seconds": recheck.data["delay_seconds"] if recheck is not None else None}}
    return Alert(**common, significance=record.significance, classes=record.classes,
                 summary=summary, title=record.title, record=record, data=data)


def _delay_words(seconds: float) -> str:
    """'45s', '2 min', '1 h 30 min'."""
    if seconds < 60:
        return f"{max(1, round(seconds))}s"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
