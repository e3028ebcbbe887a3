"""The `checkpoint` alert: opt-in per channel, sent as a `log.checkpoint` webhook whose
body follows monitor/schemas/webhook.schema.json and whose statement verifies."""

from __future__ import annotations

import base64
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from test_alerts import SECRET_ENV, config, webhook

from monitor.alerts import Dispatcher
from monitor.alerts.render import subject, text_body
from monitor.errors import ConfigError
from monitor.events import SourceRegistered
from monitor.evidence import checkpoints
from monitor.evidence.alerting import checkpoint_alert
from monitor.evidence.keys import create_key, load_signing_key
from monitor.evidence.settings import EvidenceSettings
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import migrate, open_store


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def signed(tmp_path: Path) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    store.append("a", 0, [SourceRegistered(name="a", url="https://www.gov.kz/a", kind="html",
                                           interval_seconds=60)])
    settings = EvidenceSettings(key_file=tmp_path / "key", witness_file=tmp_path / "w.jsonl")
    create_key(settings.key_file)
    key = load_signing_key(settings.key_file)
    taken = checkpoints.take(store, key, settings)
    yield store, key, taken
    store.engine.dispose()


def _validator() -> Draft202012Validator:
    folder = files("monitor") / "schemas"
    schemas = {name: json.loads((folder / name).read_text(encoding="utf-8"))
               for name in ("webhook.schema.json", "change.schema.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    return Draft202012Validator(schemas["webhook.schema.json"], registry=registry)


def test_only_a_channel_that_asks_is_sent_checkpoints(signed: Any,
                                                      receiver: WebhookReceiver) -> None:
    store, key, taken = signed
    setup = config(webhook(receiver, name="everything"),
                   webhook(receiver, name="witness", events=["checkpoint"]))
    Dispatcher(store, setup).run_once()
    bodies = [r.json() for r in receiver.received]
    assert [b["type"] for b in bodies] == ["log.checkpoint"]  # the default channel: none
    body = bodies[0]
    _validator().validate(body)
    statement = body["data"]["checkpoint"]
    assert statement == taken.record()
    message = checkpoints.Checkpoint(**{**statement, "proof": tuple(statement["proof"])})
    assert key.public.verifies(base64.b64decode(statement["signature"]), message.message())


def test_an_unknown_event_kind_is_still_refused() -> None:
    from monitor.alerts.channels import routes

    bad = config({"name": "w", "kind": "webhook", "url": "https://example.org/hook",
                  "secret_env": SECRET_ENV, "events": ["checkpoint", "checkpoints"]})
    with pytest.raises(ConfigError, match=r"'checkpoints' is not one of .*checkpoint"):
        routes(bad)


def test_a_checkpoint_alert_reads_as_one_in_mail(signed: Any) -> None:
    store, _key, taken = signed
    row = store.read_stream(checkpoints.STREAM)[-1]
    common = {"id": "alert_x", "kind": "checkpoint", "event_id": row.event_id,
              "event_position": row.position, "source_name": checkpoints.STREAM,
              "source_url": "", "detected_at": row.recorded_at}
    alert = checkpoint_alert(common, row, row.event)
    assert subject(alert).startswith("[low] log checkpoint (evidence/checkpoints): "
                                     "checkpoint signed: 1 events up to position 1")
    assert taken.root in text_body(alert)
