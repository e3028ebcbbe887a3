"""The JSON API, /api/v1/…: one module per resource, each declaring its `routes`
(monitor.web.api.routing)."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI

RESOURCES = ("sources", "versions", "changes", "events", "deliveries", "search")


def install(app: FastAPI) -> None:
    for name in RESOURCES:
        import_module(f"monitor.web.api.{name}").routes.install(app)
