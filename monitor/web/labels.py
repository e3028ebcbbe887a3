"""Words for the codes the pages show people: a source's state, a change's significance,
a role, a delivery's state, an alert's kind, in the reader's language. The codes stay
what the CLI, the API and the configuration use; only what is shown is translated.

`names(table)` gives a whole table, for a page that looks the words up once (the
board, hundreds of cells); `code|named(table)` one word. A code no table knows is
shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.web.speech import gettext


def source_states() -> dict[str, str]:
    return {"active": gettext("active"), "failing": gettext("failing"),
            "paused": gettext("paused"), "gone": gettext("gone"),
            "removed": gettext("removed")}


def significances() -> dict[str, str]:
    return {"high": gettext("high"), "medium": gettext("medium"), "low": gettext("low"),
            "none": gettext("none"), "first": gettext("first version")}


def roles() -> dict[str, str]:
    return {"viewer": gettext("viewer"), "editor": gettext("editor"),
            "admin": gettext("admin")}


def delivery_states() -> dict[str, str]:
    return {"pending": gettext("pending"), "sending": gettext("sending"),
            "retrying": gettext("retrying"), "delivered": gettext("delivered"),
            "dead": gettext("dead letter"), "confirming": gettext("awaiting re-check"),
            "dropped": gettext("dropped"), "held": gettext("held for the digest"),
            "digested": gettext("sent in a digest")}


def alert_kinds() -> dict[str, str]:
    return {"changed": gettext("change"), "reverted": gettext("reverted change"),
            "published": gettext("publication"), "removed": gettext("removal"),
            "failing": gettext("failing source"), "digest": gettext("digest"),
            "checkpoint": gettext("checkpoint")}


def reverted_choices() -> dict[str, str]:
    """A channel's `reverted` setting: what happens to a change that reverted."""
    return {"alert": gettext("alerted anyway"), "drop": gettext("not alerted")}


TABLES: dict[str, Callable[[], dict[str, str]]] = {
    "state": source_states, "significance": significances, "role": roles,
    "delivery": delivery_states, "alert": alert_kinds, "reverted": reverted_choices,
}


def names(table: str) -> dict[str, str]:
    return TABLES[table]()


def named(code: object, table: str) -> str:
    text = str(code) if code is not None else ""
    return TABLES[table]().get(text, text)
