"""Kinds registered by name: a class declares `kind = "…"`, and a module in the
package is all it takes to add one (source adapters, alert channels)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def discover_kinds(package: str, path: Iterable[str], base: type[T]) -> dict[str, type[T]]:
    """Import every module of `package`, then map each concrete subclass's `kind` to it."""
    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")
    found: dict[str, type[T]] = {}
    pending = list(base.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        kind = getattr(cls, "kind", None)
        if isinstance(kind, str) and not inspect.isabstract(cls):
            found[kind] = cls
    return dict(sorted(found.items()))
