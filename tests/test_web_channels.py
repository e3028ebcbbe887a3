"""The Channels page: each configured channel with where, for whom and when it
sends, never a secret; and its test button, which sends the sample alert for real
to a webhook receiver and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from web_helpers import Served, serve

from monitor.config import AlertConfig, Config
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.store import EventStore, migrate, open_store

PATH_TOKEN = "hooktoken7f3a9c2e5b1d"  # a receiver's token in the webhook's path
APPRISE_TOKEN = "bot8815262:AAFhx93kQ"
SMTP_USER, SMTP_PASSWORD = "newsroom-sender", "pw-9s8d7f6g5h4j3k"
ENV = {"TEST_WEB_HOOK_SECRET": SECRET, "TEST_WEB_SMTP_USER": SMTP_USER,
       "TEST_WEB_SMTP_PASSWORD": SMTP_PASSWORD}
SECRETS = (SECRET, SECRET[6:], PATH_TOKEN, APPRISE_TOKEN.split(":")[1], SMTP_USER,
           SMTP_PASSWORD)


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[EventStore]:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def served(sqlite_store: EventStore, receiver: WebhookReceiver, sink: SmtpSink,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    alerts = (
        AlertConfig("hook", "webhook", {"url": f"{receiver.url}/{PATH_TOKEN}",
                                        "secret_env": "TEST_WEB_HOOK_SECRET",
                                        "min_significance": "medium", "language": "ru",
                                        "timezone": "Asia/Almaty", "digest": "1d"}),
        AlertConfig("desk", "email", {"host": "127.0.0.1", "port": sink.port,
                                      "security": "none", "from": "monitor@example.org",
                                      "to": ["desk@example.org"]}),
        AlertConfig("signed-mail", "email", {"host": "smtp.example.org",
                                             "username_env": "TEST_WEB_SMTP_USER",
                                             "password_env": "TEST_WEB_SMTP_PASSWORD",
                                             "from": "monitor@example.org",
                                             "to": "editor@example.org"}),
        AlertConfig("chat", "apprise", {"url": f"tgram://{APPRISE_TOKEN}/-100123"}),
        AlertConfig("later", "apprise", {"url_env": "TEST_WEB_UNSET_APPRISE_URL"}),
    )
    config = Config(path=None, database_url=str(sqlite_store.engine.url), alerts=alerts)
    with serve(sqlite_store, config) as found:
        yield found


def _section(page: str, name: str) -> str:
    start = page.index(f'id="channel-{name}"')
    end = page.find("</section>", start)
    return html.unescape(re.sub(r"<[^>]+>", " ", page[start:end]))


def test_every_channel_is_shown_and_no_secret_is_ever_rendered(served) -> None:
    viewer = served.user("ivan", "viewer")
    page = viewer.get("/channels")
    assert page.status_code == 200
    hook = " ".join(_section(page.text, "hook").split())
    assert f"http://127.0.0.1:{served_port(hook)}/…" in hook
    assert "TEST_WEB_HOOK_SECRET — set" in hook
    assert "ru" in hook and "Asia/Almaty" in hook and "one message every 1d" in hook
    assert "medium" in hook
    signed = " ".join(_section(page.text, "signed-mail").split())
    assert "TEST_WEB_SMTP_PASSWORD — set" in signed and "editor@example.org" in signed
    assert "tgram://…" in _section(page.text, "chat")
    assert "TEST_WEB_UNSET_APPRISE_URL — not set" in " ".join(_section(page.text,
                                                                       "later").split())
    assert 'name="test"' not in page.text  # a viewer cannot send
    editor = served.user("dana", "editor")
    pages = [editor.get(path).text for path in ("/", "/sources", "/channels", "/deliveries")]
    pages.append(editor.submit("/channels/hook/test", {}, "/channels").text)
    for text in pages:
        for secret in SECRETS:
            assert secret not in text and secret not in html.unescape(text)


def served_port(section: str) -> str:
    found = re.search(r"127\.0\.0\.1:(\d+)", section)
    assert found
    return found.group(1)


def test_the_test_button_delivers_to_the_webhook_receiver_and_the_smtp_sink(
        served, receiver, sink) -> None:
    editor = served.user("dana", "editor")
    assert 'name="test"' in editor.get("/channels").text
    hooked = editor.submit("/channels/hook/test", {}, "/channels")
    assert hooked.status_code == 200
    said = _section(hooked.text, "hook")
    assert "Sample alert delivered: HTTP 204" in said
    assert len(receiver.received) == 1 and receiver.rejected == 0  # signed with the secret
    assert receiver.received[0].webhook_id.startswith("test_")
    assert receiver.received[0].webhook_id in said
    mailed = editor.submit("/channels/desk/test", {}, "/channels")
    assert mailed.status_code == 200
    assert "Sample alert delivered: accepted by 127.0.0.1" in _section(mailed.text, "desk")
    assert len(sink.messages) == 1 and sink.envelopes[0][1] == ["desk@example.org"]
    assert "Sample press release" in str(sink.messages[0]["Subject"])


def test_a_failed_test_says_why_in_one_line(served, receiver) -> None:
    editor = served.user("dana", "editor")
    receiver.answer_always(410)
    failed = editor.submit("/channels/hook/test", {}, "/channels")
    assert failed.status_code == 502
    said = " ".join(_section(failed.text, "hook").split())
    assert "test alert through hook (webhook) failed:" in said and "HTTP 410" in said
    assert PATH_TOKEN not in failed.text
    unset = editor.submit("/channels/later/test", {}, "/channels")
    assert unset.status_code == 502
    assert "TEST_WEB_UNSET_APPRISE_URL is not set" in _section(unset.text, "later")
    unknown = editor.submit("/channels/nobody/test", {}, "/channels")
    assert unknown.status_code == 404


def test_a_broken_channel_setting_is_shown_not_a_crash(sqlite_store) -> None:
    bad = (AlertConfig("hook", "webhook", {"url": "https://hooks.example.org/x",
                                           "secret_env": "X", "min_significance": "huge"}),)
    config = Config(path=None, database_url=str(sqlite_store.engine.url), alerts=bad)
    with serve(sqlite_store, config) as served:
        editor = served.user("dana", "editor")
        page = editor.get("/channels")
        assert page.status_code == 200
        assert "min_significance" in page.text and "huge" in html.unescape(page.text)
        tried = editor.submit("/channels/hook/test", {}, "/channels")
        assert tried.status_code == 400 and "min_significance" in tried.text
