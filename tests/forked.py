"""Child processes for tests, started in milliseconds rather than a second.

A test that needs real processes (writers racing on one database, a dispatcher that
SIGKILLs itself) gets them from multiprocessing's forkserver: one clean,
single-threaded process per test process, with monitor's modules imported once, that
forks each child. A child is still a process of its own (its own connections, its own
exit code, killable), but it does not pay a fresh interpreter's imports, which cost
each `spawn`ed child about a second of CPU. Forking the test process itself would be
cheaper still but unsafe: it runs threads (servers on 127.0.0.1) that may hold locks.

The server starts with the environment the test process has at that moment; a child
that needs a variable set later (by monkeypatch) sets it itself.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

# What every child would otherwise import again: the store, the alerts and their channels
# (a Dispatcher imports every channel module), the test tools. A name that is gone is
# skipped by the server, costing its children the import, not an error.
PRELOAD = ("pytest", "sqlalchemy", "monitor.store", "monitor.events", "monitor.config",
           "monitor.alerts", "monitor.alerts.channels.webhook", "monitor.alerts.channels.mail",
           "monitor.alerts.channels.apprise_url", "monitor.alerts.channels.wayback")


def forkserver(*modules: str) -> BaseContext:
    """The forkserver context. `modules` (the calling test module, whose functions the
    children run) are imported in the server too, if it is not running yet; if it is,
    a child imports them itself, as a spawned child would."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *modules])
    return context
