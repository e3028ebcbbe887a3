"""The Deliveries page: dead letters first, filters by state, and the retry button,
which puts a dead letter back to pending for the dispatcher to deliver, for real, to
a webhook receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_helpers import Served, serve

from monitor.alerts import Dispatcher
from monitor.alerts.outbox import delivery, listing
from monitor.config import AlertConfig, Config
from monitor.events import DocumentRemoved, SourceRegistered
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore


@pytest.fixture
def served(store: EventStore, receiver: WebhookReceiver,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """On SQLite and PostgreSQL: the dead-first order and the requeue are SQL of each."""
    monkeypatch.setenv("TEST_WEB_DELIVERIES_SECRET", SECRET)
    alerts = (AlertConfig("hook", "webhook", {"url": receiver.url,
                                              "secret_env": "TEST_WEB_DELIVERIES_SECRET"}),)
    config = Config(path=None, database_url=str(store.engine.url), alerts=alerts)
    with serve(store, config) as found:
        yield found


def _removed(store: EventStore, name: str) -> None:
    """A watched page, then its removal: one `removed` alert for each channel."""
    store.append(name, 0, [SourceRegistered(name=name, url=f"https://example.org/{name}",
                                            kind="html", interval_seconds=3600)])
    store.append(name, 1, [DocumentRemoved(status=404, confirmations=3)])


def _dispatch(served: Served) -> Dispatcher:
    dispatcher = Dispatcher(served.store, served.config)
    dispatcher.enqueue()
    dispatcher.deliver_due(10)
    return dispatcher


def test_a_dead_letter_comes_first_and_retry_gets_it_delivered(served, receiver) -> None:
    receiver.answer_always(410)  # the receiver says no for good: dead at once
    _removed(served.store, "first-page")
    _dispatch(served)
    receiver.answer_always(None)
    _removed(served.store, "second-page")
    dispatcher = _dispatch(served)
    rows = {row.stream_id: row for row in listing(served.store.engine)}
    dead, delivered = rows["first-page"], rows["second-page"]
    assert (dead.state, delivered.state) == ("dead", "delivered") and dead.id < delivered.id

    viewer = served.user("ivan", "viewer")
    page = viewer.get("/deliveries").text
    assert page.index(f'id="delivery-{dead.id}"') < page.index(f'id="delivery-{delivered.id}"')
    assert "HTTP 410" in page and 'name="retry"' not in page
    only_delivered = viewer.get("/deliveries?state=delivered").text
    assert f'id="delivery-{dead.id}"' not in only_delivered
    assert f'id="delivery-{delivered.id}"' in only_delivered
    assert viewer.get("/deliveries?state=lost").status_code == 422
    assert f'id="delivery-{dead.id}"' not in viewer.get("/deliveries?channel=other").text

    editor = served.user("dana", "editor")
    assert 'name="retry"' in editor.get("/deliveries").text
    retried = editor.submit(f"/deliveries/{dead.id}/retry", {}, "/deliveries",
                            allow_redirects=False)
    assert retried.status_code == 303 and retried.headers["location"] == "/deliveries"
    assert "back to pending" in editor.get("/deliveries").text
    again = delivery(served.store.engine, dead.id)
    assert again is not None and (again.state, again.attempts) == ("pending", 0)
    dispatcher.deliver_due(10)
    assert delivery(served.store.engine, dead.id).state == "delivered"  # type: ignore[union-attr]
    assert len(receiver.received) == 2  # the second page's, then the retried one


def test_only_dead_letters_are_retried(served, receiver) -> None:
    _removed(served.store, "page")
    _dispatch(served)
    (row,) = listing(served.store.engine)
    assert row.state == "delivered"
    editor = served.user("dana", "editor")
    refused = editor.submit(f"/deliveries/{row.id}/retry", {}, "/deliveries")
    assert refused.status_code == 200 and "is delivered, not dead" in refused.text
    assert delivery(served.store.engine, row.id).state == "delivered"  # type: ignore[union-attr]
    assert editor.submit("/deliveries/999/retry", {}, "/deliveries").status_code == 404
    huge = editor.submit(f"/deliveries/{2**70}/retry", {}, "/deliveries")
    assert huge.status_code == 422 and "Traceback" not in huge.text
    assert len(receiver.received) == 1
