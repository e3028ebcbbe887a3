"""Bringing the store in line with the configuration (used by `init` and `run`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor import catalog
from monitor.baseline import import_baseline, read_baseline
from monitor.config import Config
from monitor.store import EventStore


@dataclass
class SyncResult:
    registered: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)


def sync_configured_sources(store: EventStore, config: Config) -> SyncResult:
    """Register configured sources, apply changed settings, import baselines. Idempotent."""
    result = SyncResult()
    for spec in config.sources:
        registration = catalog.register(store, spec)
        if registration.created:
            result.registered.append(spec.name)
        elif registration.reconfigured:
            result.reconfigured.append(spec.name)
        if spec.baseline is not None and import_baseline(store, spec.name,
                                                         read_baseline(spec.baseline)):
            result.baselines.append(spec.name)
    return result
