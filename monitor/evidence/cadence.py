"""The daemon's checkpoints: a job that asks every half minute (monitor.daemon) whether
one is due (`[evidence] checkpoint_every` since the last, or `checkpoint_events` new events) and
takes it. A failure is logged and tried again at the next tick; a log that no longer
matches its last checkpoint is said once, loudly, and not signed."""

from __future__ import annotations

import logging

from monitor.errors import IntegrityViolation
from monitor.evidence import checkpoints
from monitor.evidence.keys import SigningKey
from monitor.evidence.settings import EvidenceSettings
from monitor.store import EventStore

log = logging.getLogger("monitor.evidence")


class Checkpointer:
    def __init__(self, store: EventStore, key: SigningKey, settings: EvidenceSettings) -> None:
        self.store = store
        self.key = key
        self.settings = settings
        self.refused = False  # said once until a checkpoint is signed again

    def __call__(self) -> checkpoints.Checkpoint | None:
        if not checkpoints.due(self.store, self.settings):
            return None
        try:
            taken = checkpoints.take(self.store, self.key, self.settings)
        except IntegrityViolation as exc:
            if not self.refused:
                log.error("checkpoint refused: %s", exc)
            self.refused = True
            return None
        self.refused = False
        log.info("checkpoint signed events=%d position=%d root=%s", taken.events,
                 taken.position, taken.root[:16])
        return taken
