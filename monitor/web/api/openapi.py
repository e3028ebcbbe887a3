"""The OpenAPI document of /api/v1 holds the shipped change schema
(monitor/schemas/change.schema.json) itself, so the API, webhooks and report JSON are
described by one schema, not by a copy that could drift from it.

OpenAPI 3.1 schemas are JSON Schema 2020-12: the schema goes in as it is, each of its
`$defs` becoming a component of its own (`hunk` -> `ChangeHunk`) and its references
pointed there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.changes.schema import load_schema
from monitor.web.api.common import Problem

PREFIX = "Change"
_DEFS = "#/$defs/"


def component_name(definition: str | None = None) -> str:
    """`hunk` -> `ChangeHunk`; None -> `Change` (the change itself)."""
    if definition is None:
        return PREFIX
    return PREFIX + "".join(part.capitalize() for part in definition.split("_"))


def schema_ref(definition: str | None = None) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component_name(definition)}"}


def change_components() -> dict[str, Any]:
    """The change schema and each of its definitions, as OpenAPI components."""
    schema = load_schema("change.schema.json")
    definitions = schema.pop("$defs")
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    found = {component_name(): _pointed(schema)}
    found.update({component_name(name): _pointed(part) for name, part in definitions.items()})
    return found


def _pointed(value: Any) -> Any:
    """`value` with every reference to a definition pointed at its component."""
    if isinstance(value, dict):
        return {k: (schema_ref(v[len(_DEFS):])["$ref"]
                    if k == "$ref" and isinstance(v, str) and v.startswith(_DEFS)
                    else _pointed(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_pointed(v) for v in value]
    return value


def with_change_schema(make: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Wraps FastAPI's `app.openapi` (which makes the document once and keeps it) so the
    document holds the change schema's components."""

    def openapi() -> dict[str, Any]:
        document = make()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if PREFIX not in schemas:
            schemas.update(change_components())
            schemas.setdefault("Problem", Problem.model_json_schema())
        return document

    return openapi
