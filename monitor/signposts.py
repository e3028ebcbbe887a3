"""Redirects to pages that are not the document, judged with what the store knows.

The home page and the section index are judged from the URLs alone
(monitor.removal). A "document moved" signpost is only known by being shared:
the final URL the redirects of several other watched documents reach too. Those
are found in the store (versions read at that URL by sources that watch another
address) and in what this process saw, so no query runs for a check without a
redirect, and none once a signpost is known.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import Engine

from monitor.removal import SIGNPOST_OTHERS, Judgement, judge_redirect
from monitor.sources.base import Capture
from monitor.store.queries import redirected_here


@dataclass
class RedirectJudge:
    """Thread-safe; one per checker."""

    engine: Engine
    # final URL -> {stream: the path it watches}, for the redirects seen here
    _seen: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def judge(self, stream_id: str, watched: str, captured: Capture) -> Judgement | None:
        """Whether this capture reached a generic page rather than the document.
        Other documents are other paths, so that the language variants of one
        article redirected to one address do not make a signpost of it."""
        if not captured.redirects:
            return None
        final = captured.final_url
        judged = judge_redirect(watched, final, captured.redirects)
        if judged is not None:
            return judged
        mine = urlsplit(watched).path
        with self._lock:
            seen = self._seen.setdefault(final, {})
            seen[stream_id] = mine
            others = {path for path in seen.values() if path != mine}
        if len(others) < SIGNPOST_OTHERS:
            others |= {urlsplit(url).path for url in redirected_here(self.engine, final)} - {mine}
        shared = {final} if len(others) >= SIGNPOST_OTHERS else set()
        return judge_redirect(watched, final, captured.redirects, shared)
