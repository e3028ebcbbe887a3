"""`monitor demo`: the whole product, offline, in a few seconds.

It starts a local gov.kz replica serving the shipped baseline article (with the
replica's noise: view counters, clocks, tokens), a local SMTP sink and a
webhook receiver, records the baseline, checks the live page (no change: the
noise is not news), edits the page the way a ministry might — a number and a
name — checks again, delivers the alerts and shows what arrived. What it made is
written into a folder (`./demo-output/` by default) to open afterwards: the HTML
report, the e-mail and the webhook body as received, the evidence bundle.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.alerts import Dispatcher
from monitor.baseline import SEED, import_baseline, read_baseline
from monitor.catalog import register
from monitor.config import AlertConfig, Config, FetchConfig, SourceConfig
from monitor.errors import UsageError
from monitor.evidence.bundle.export import export_bundle
from monitor.evidence.keys import create_key
from monitor.evidence.settings import evidence_settings
from monitor.normalize import parse_capture
from monitor.one_check import build_checker
from monitor.reach import reach_prefix
from monitor.replica import GovkzReplica
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver
from monitor.report.filters import parse_filter
from monitor.report.formats import render_report
from monitor.report.gather import gather_report
from monitor.report.model import Report
from monitor.store import migrate, open_store
from monitor.store.verify import verify_log
from monitor.untrusted import one_line

ARTICLE_ID = 1119829
SECRET_ENV = "MONITOR_DEMO_WEBHOOK_SECRET"
EDITS = (("144th session", "145th session"), ("Matilda Bogner", "Matilda Bognar"))

Say = Callable[[str], None]


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp:
        yield Path(tmp)


OUTPUT = Path("demo-output")
REPORT_FILE = "report.html"
EMAIL_FILE = "alert-email.eml"
WEBHOOK_FILE = "alert-webhook.json"
BUNDLE_FILE = "evidence-bundle.zip"


def prepare_output(output: Path) -> None:
    """The folder the demo writes into, made now, so a folder that cannot be made is
    said before the demo runs (UsageError), not after it."""
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the demo's folder {output}: "
                         f"{exc.strerror or exc}") from None


def run_demo(say: Say, color: bool = False, keep: Path | None = None,
             output: Path = OUTPUT) -> int:
    prepare_output(output)
    with ExitStack() as stack:
        workdir = stack.enter_context(_workdir(keep))
        replica = stack.enter_context(GovkzReplica())
        smtp = stack.enter_context(SmtpSink())
        hook = stack.enter_context(WebhookReceiver())
        os.environ[SECRET_ENV] = SECRET
        url = replica.seed_baseline(article_id=ARTICLE_ID)
        say(f"1. A local gov.kz replica serves the baseline article at\n   {url}\n"
            "   (with a view counter, a clock, CSRF tokens and rotating blocks on every load)")

        config = _config(workdir, smtp.port, hook.url)
        store = open_store(config.database_url, check_schema=False)
        stack.callback(store.engine.dispose)
        migrate.upgrade(store.engine)
        name = "mfa-human-rights-penitentiary-en"
        register(store, SourceConfig(name=name, url=url, kind="govkz", interval_seconds=3600,
                                     language="en"))
        import_baseline(store, name, read_baseline(SEED))
        say(f"2. The shipped capture (snapshots/{SEED.with_suffix('.txt').name}) is "
            "recorded as version 1.")

        checker = build_checker(config, store)
        stack.callback(checker.fetcher.close)
        first = checker.check(name)
        say(f"3. First check of the live page: {first.outcome} — the title, unknown in the "
            "capture, is filled in;\n   the text matches the baseline, so nothing is reported.")
        quiet = [checker.check(name).outcome for _ in range(3)]
        say(f"   Three more checks through the noise: {', '.join(quiet)}.")

        paragraphs = list(parse_capture(SEED.with_suffix(".txt").read_text("utf-8")).paragraphs)
        edited = [_edit(p) for p in paragraphs]
        replica.edit_article(ARTICLE_ID, "en", paragraphs=edited)
        say("4. The ministry quietly edits the page: " +
            " and ".join(f"“{a}” → “{b}”" for a, b in EDITS) + ".")
        second = checker.check(name)
        say(f"   Next check: {second.outcome} [{second.significance}].\n")

        report = gather_report(store.engine, parse_filter("1d", None, None, None, _now()),
                               _now())
        say(render_report(report, "text", color=color))

        summary = Dispatcher(store, config).run_once()
        say(f"5. Alerts dispatched: {summary}")
        _show_alerts(say, smtp, hook)

        verdict = verify_log(store.engine)
        say(f"6. monitor verify: {'log intact' if verdict.intact else 'ALTERED'} — "
            f"{verdict.events_checked} events, hash chain recomputed.")
        written = _write_output(output, workdir, name, report, smtp, hook)
        say(f"\n7. What the demo made is in {output}{os.sep}:")
        for file, what in written:
            say(f"   {file.name:<{max(len(f.name) for f, _ in written)}}  {what}")
        say(f"   Open the report in a browser: {(output / REPORT_FILE).resolve().as_uri()}\n"
            f"   Check the bundle as anyone could: {reach_prefix()}monitor verify-bundle "
            f"{shlex.quote(str(output / BUNDLE_FILE))}")
        if keep is not None:
            say(f"\nThe demo store is kept in {workdir}; try:\n"
                f"   {reach_prefix()}monitor --database {config.database_url} history {name}")
        return 0 if second.outcome == "changed" and hook.received and smtp.messages else 1


def _write_output(output: Path, workdir: Path, name: str, report: Report, smtp: SmtpSink,
                  hook: WebhookReceiver) -> list[tuple[Path, str]]:
    """The report, the alerts as they arrived and the changed source's evidence bundle
    (what `monitor export` writes), into `output`; each file with a line on it."""
    written: list[tuple[Path, str]] = []

    def put(file: str, data: bytes, what: str) -> None:
        (output / file).write_bytes(data)
        written.append((output / file, what))

    put(REPORT_FILE, render_report(report, "html").encode("utf-8"),
        "the report, word by word (as `monitor report --format html`)")
    if smtp.raw:
        put(EMAIL_FILE, smtp.raw[0], "the e-mail alert, as the mail server received it")
    if hook.received:
        put(WEBHOOK_FILE, hook.received[0].body,
            "the webhook's body, as received (Standard Webhooks, signed)")
    bundle = output / BUNDLE_FILE
    _export(workdir, name, bundle)
    written.append((bundle, "the changed page's evidence bundle (as `monitor export`)"))
    return written


def _export(workdir: Path, name: str, bundle: Path) -> None:
    """`monitor export` of the demo's store, from a copy with a key of its own: the
    checkpoint it signs goes into the copy, so a store kept with --keep stays as the
    story left it (no key, no checkpoint: `monitor init` makes them there)."""
    with tempfile.TemporaryDirectory(prefix="monitor-demo-bundle-") as tmp:
        copy = Path(tmp) / "demo.db"
        with closing(sqlite3.connect(workdir / "demo.db")) as source, \
                closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        config = Config(path=None, database_url=f"sqlite:///{copy}")
        settings = evidence_settings(config)
        create_key(settings.key_file)  # beside the copy, as `monitor init` makes one
        store = open_store(config.database_url)
        try:
            export_bundle(store, settings, name, None, None, bundle)
        finally:
            store.engine.dispose()


def _edit(paragraph: str) -> str:
    for old, new in EDITS:
        paragraph = paragraph.replace(old, new)
    return paragraph


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)


def _config(workdir: Path, smtp_port: int, hook_url: str) -> Config:
    database = f"sqlite:///{workdir / 'demo.db'}"
    alerts = (
        AlertConfig("newsroom-hook", "webhook", {"url": hook_url, "secret_env": SECRET_ENV}),
        AlertConfig("editors", "email", {
            "host": "127.0.0.1", "port": smtp_port, "security": "none",
            "from": "monitor@localhost", "to": ["desk@localhost"]}),
    )
    # The replica is on loopback, which sources may reach only by the operator's
    # choice: running the demo is that choice, for its own replica.
    fetch = FetchConfig(min_delay_per_host=0.0, retries=1, allow_private_networks=True)
    return replace(Config(path=None, database_url=database), fetch=fetch, alerts=alerts)


def _show_alerts(say: Say, smtp: SmtpSink, hook: WebhookReceiver) -> None:
    for received in hook.received:
        payload = received.json()
        data = payload["data"]
        say(f"   webhook  {received.webhook_id}  signature verified  "
            f"type={payload['type']} significance={data['significance']}")
        say(f"            {one_line(data['title'] or data['source']['name'])}: "
            f"{one_line(data['summary'])}")
    for message in smtp.messages:
        say(f"   email    to {message['To']}  subject: {message['Subject']}")
    if hook.received:
        sample = json.dumps(hook.received[0].json(), ensure_ascii=False, indent=2)
        say("   webhook body (first 12 lines):\n" +
            "\n".join("     " + line for line in sample.splitlines()[:12]))
