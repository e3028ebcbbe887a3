"""Roles: what each kind of account may do. Each role can do everything the roles
before it can."""

from __future__ import annotations

from monitor.web.speech import gettext

VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
ROLES = (VIEWER, EDITOR, ADMIN)
WHAT = {
    VIEWER: "reads everything the monitor recorded",
    EDITOR: "also adds, pauses and removes sources; tests channels; retries deliveries",
    ADMIN: "also manages users, tokens, public feeds and keys",
}


def role_problem(value: object) -> str | None:
    if value not in ROLES:
        return gettext("%(value)s is not a role: use viewer, editor or admin", value=repr(value))
    return None


def allows(role: str, needed: str) -> bool:
    """Whether an account with `role` may do what needs `needed`."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
