"""Source adapters, registered by kind name: a source's `kind = "govkz"` picks one.

A new kind is one new module in this package holding a `SourceAdapter` subclass
that declares `kind`; its docstring is its help text. Nothing else changes: the
package's modules are discovered on first use (not at import time, so that
`monitor --help` does not pay for trafilatura).
"""

from __future__ import annotations

import inspect
import textwrap
import threading
from collections.abc import Mapping
from functools import cache
from typing import Any

from monitor.errors import UsageError
from monitor.registry import discover_kinds
from monitor.sources.base import SourceAdapter

__all__ = ["KINDS", "adapter_for", "kinds_help"]

KINDS: Mapping[str, type[SourceAdapter]]  # kind name -> adapter class; see __getattr__
_instances: dict[str, SourceAdapter] = {}
_instances_lock = threading.Lock()


@cache
def _discover() -> Mapping[str, type[SourceAdapter]]:
    return discover_kinds(__name__, __path__, SourceAdapter)  # type: ignore[type-abstract]


def __getattr__(name: str) -> Any:
    if name == "KINDS":  # kind name -> adapter class, built on first use
        return _discover()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def adapter_for(kind: str) -> SourceAdapter:
    """The adapter for `kind`, one shared instance per kind (adapters keep per-site
    state such as a passed challenge). Unknown kind -> UsageError."""
    adapter = _instances.get(kind)  # the common case: no lock, no scan
    if adapter is not None:
        return adapter
    kinds = _discover()
    if kind not in kinds:
        raise UsageError(f"unknown source kind {kind!r}; known kinds: {', '.join(kinds)}")
    with _instances_lock:
        if kind not in _instances:
            _instances[kind] = kinds[kind]()
        return _instances[kind]


def kinds_help() -> str:
    """Every kind and what it does, from the adapters' docstrings."""
    blocks = []
    for kind, cls in _discover().items():
        doc = inspect.cleandoc(cls.__doc__ or "(no description)")
        blocks.append(f"{kind}\n{textwrap.indent(doc, '    ')}")
    return "\n\n".join(blocks)
