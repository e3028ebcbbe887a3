"""The JSON Schema files shipped in the package (monitor/schemas/), read with
importlib.resources so an installed wheel finds them anywhere."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

SCHEMAS = ("change.schema.json", "webhook.schema.json")


def schema_text(name: str) -> str:
    """The text of one schema file: 'change.schema.json' or 'webhook.schema.json'."""
    if name not in SCHEMAS:
        raise ValueError(f"no schema named {name!r} (known: {', '.join(SCHEMAS)})")
    return files("monitor").joinpath("schemas", name).read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded
