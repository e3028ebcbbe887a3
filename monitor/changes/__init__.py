"""A change as every reader outside the monitor sees it: one shape for report JSON,
webhooks and any later API, documented as a JSON Schema shipped in the package
(monitor/schemas/change.schema.json).

`record` holds what a change is made of, `load` reads it from the store (the report
and the alert dispatcher both use it), `data` is the one function that turns it into
the documented JSON, `titles` shows a document's title to people, and `schema` reads
the schema files.
"""
