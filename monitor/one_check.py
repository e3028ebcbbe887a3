"""One way to run a check, whoever runs it: a pass (`monitor check`), the daemon
(`monitor run`) or a queue worker (`monitor worker`). Each of them adds its own
scheduling; none has its own idea of what a crash means. This module owns:

- building a Checker from the config (`build_checker`);
- running one check safely (`run_check`): the one call every runner makes;
- what a crash means (`crash_result`), which `Checker.check` asks when a check raises.

What an exception means:

- the page or the network (FetchFailed) is the page's news, recorded by the check;
- the store in trouble (PersistenceError): outcome `error`, nothing recorded (there is
  nowhere to record it);
- any other exception, a bug or a stored record this program cannot use: outcome
  `error`, and a FetchFailed `internal` with a one-line reason in the source's log (so
  `sources` shows it failing and a channel's `failing_after` can alert). The traceback
  goes to the process's log, never into the evidence. The caller goes on with the
  next source: a check never kills a pass, the daemon or a worker;
- KeyboardInterrupt, SystemExit and a queue worker's time limit (BaseException, not
  Exception) are not a check's outcome: they stop the caller, which is what they are
  for. Nothing half-written stays, because every append is one transaction.

The check leaves its trace (a row of the check ledger) inside `Checker.check`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from monitor.config import Config
from monitor.errors import FetchFailed, MonitorError, PersistenceError
from monitor.fetch import Fetcher, FetchSettings
from monitor.normalize import normalize_text

if TYPE_CHECKING:
    from monitor.check import Checker, CheckResult
    from monitor.store import EventStore
    from monitor.store.rows import SourceRow

log = logging.getLogger("monitor.check")

REASON_CHARS = 300  # a crash's one-line reason, as stored in the FetchFailed


def fetch_settings(config: Config) -> FetchSettings:
    f = config.fetch
    return FetchSettings(
        contact=f.contact, connect_timeout=f.connect_timeout, read_timeout=f.timeout,
        max_bytes=f.max_bytes, retries=f.retries, backoff_factor=f.backoff,
        max_concurrent_per_host=f.max_concurrent_per_host,
        min_delay_per_host=f.min_delay_per_host, ca_bundle=f.ca_bundle,
        deadline=f.deadline, allow_private_networks=f.allow_private_networks,
    )


def build_checker(config: Config, store: EventStore, *, fetcher: Fetcher | None = None,
                  **options: Any) -> Checker:
    """The checker a runner uses. `fetcher`: another fetcher than the config's own
    (a queue worker's fetcher keeps to cluster-wide host limits); `options`: the
    Checker's fields (`learn`, `learn_delay`, ...)."""
    from monitor.check import Checker

    return Checker(store=store, fetcher=fetcher or Fetcher(fetch_settings(config)),
                   config=config, keep_raw=config.fetch.keep_raw, **options)


def run_check(checker: Checker, name: str, row: SourceRow | None = None) -> CheckResult:
    """Check one source and return its result; never raises an Exception (see the
    module's docstring). `row`: the source's projection row, if the caller read it."""
    try:
        return checker.check(name, row)
    except Exception as exc:  # escaped the check's own guard (its trace, its log line)
        log.exception("check of %s crashed after it ended", name)
        from monitor.check import CheckResult

        return CheckResult(name, "error", detail=_one_line(exc))


def crash_result(checker: Checker, name: str, exc: Exception) -> CheckResult:
    """What a check that raised `exc` comes to (see the module's docstring)."""
    from monitor.check import CheckResult

    if isinstance(exc, FetchFailed):  # the check records these itself; kept for safety
        return CheckResult(name, "failed", detail=f"{exc.kind}: {exc}")
    if isinstance(exc, PersistenceError):  # the store is in trouble: nothing is recorded
        return CheckResult(name, "error", detail=str(exc))
    if isinstance(exc, MonitorError):
        # A refusal (a stored kind this program no longer knows, bad stored options):
        # its own words are the reason (issue 9, item 5).
        return _record_crash(checker, name, normalize_text(str(exc))[:REASON_CHARS])
    log.error("check of %s crashed", name, exc_info=exc)
    return _record_crash(checker, name, _one_line(exc))


def _record_crash(checker: Checker, name: str, detail: str) -> CheckResult:
    """Outcome `error`, and a FetchFailed `internal` for the source; throttled like
    every failure (`repeat_failures_every`), so a lasting bug is not an event a check."""
    from monitor.check import CHECKABLE, CheckResult
    from monitor.store.queries import source_by_stream

    try:
        row = source_by_stream(checker.store.engine, name)  # as it is now, whatever it was
        if row is None or row.state not in CHECKABLE:
            return CheckResult(name, "error", detail=detail)
        recorded = checker._record_failure(row, FetchFailed("internal", detail))
    except Exception:  # the store itself is in trouble: the outcome says enough
        log.exception("could not record the crash of the check of %s", name)
        return CheckResult(name, "error", detail=detail)
    return replace(recorded, outcome="error")


def _one_line(exc: BaseException) -> str:
    """`Type: message` on one line, with no terminal escapes."""
    return normalize_text(f"{type(exc).__name__}: {exc}")[:REASON_CHARS]
