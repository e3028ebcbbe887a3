"""Page text that normalization keeps (bidi overrides, C1 controls) reaches no alert
e-mail raw: in a Russian or Kazakh digest and a single alert, subject, plain text and
HTML carry neither the overrides nor the controls, and the markup stays escaped."""

from __future__ import annotations

from datetime import datetime

import pytest
from change_story import Document, _edit, _register, _version
from test_alerts import SECRET_ENV, config, smtp_sink
from test_digest import mail, parts

from monitor.alerts import Dispatcher
from monitor.clock import ManualClock
from monitor.normalize import normalize_text
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET

__all__ = ["smtp_sink"]  # the fixture
EVIL = "<img src=x onerror=alert(1)>\x1b[2J \u202eevil\u2066 \u2067x\u2069 \x9b1m"
RAW = ("\x1b", "\u202e", "\u2066", "\u2067", "\u2069", "\x9b")


def test_bidi_overrides_survive_normalization_so_the_messages_must_drop_them() -> None:
    kept = normalize_text(EVIL)
    assert "\u202e" in kept  # page text as stored: the display must clean it


def test_bidi_overrides_and_c1_controls_from_a_page_never_reach_an_email(
    store, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    old = Document(normalize_text(EVIL + " T"), "2025-12-11", (normalize_text(EVIL + " 1."),))
    new = Document(normalize_text(EVIL + " T2"), "2025-12-11",
                   (normalize_text(EVIL + " 2."), normalize_text(EVIL)))
    _register(store, "evil", "https://www.gov.kz/memleket/entities/mfa/press/news/9")
    _version(store, "evil", old, baseline=True)
    _edit(store, "evil", old, new)
    clock = ManualClock()
    clock.set(datetime(2026, 1, 5, 9, 30))
    channels = [mail(smtp_sink, name=f"digest-{lang}", digest="1d", language=lang)
                for lang in ("ru", "kk")]
    dispatcher = Dispatcher(store, config(*channels, mail(smtp_sink, name="one", language="ru")),
                            clock=clock)
    dispatcher.run_once()
    clock.set(datetime(2026, 1, 6, 21, 0))
    dispatcher.run_once()
    assert len(smtp_sink.messages) == 3
    for message in smtp_sink.messages:
        plain, html = parts(message)
        for shown in (str(message["Subject"]), plain, html):
            assert not [c for c in RAW if c in shown], (message["Subject"], shown[:300])
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "evil" in plain
