"""Credentials for a page behind HTTP Basic auth, read from the environment at each fetch.

A URL never carries them: every URL is written into the append-only log, so a password
in one could never be taken back. A source names an environment variable instead
(`auth_env = "INTRANET_AUTH"` in its [[sources]] table, or `monitor add --auth-env`);
only that name is recorded, and the variable's value, `user:password`, is sent as an
`Authorization: Basic` header. requests drops the header when a redirect leaves the host.
"""

from __future__ import annotations

import base64
import os

from monitor.errors import ConfigError
from monitor.sources.base import SourceSpec

AUTH_ENV = "auth_env"  # the key of a source's options that names the variable


def auth_headers(spec: SourceSpec) -> dict[str, str]:
    """The headers that authenticate a fetch of `spec` (none without `auth_env`)."""
    variable = spec.options.get(AUTH_ENV)
    if not variable:
        return {}
    value = os.environ.get(str(variable), "")
    if ":" not in value:
        state = "is not set" if not value else "does not hold user:password"
        raise ConfigError(f"source {spec.name}: environment variable {variable} (its auth_env) "
                          f"{state}")
    token = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return {"Authorization": f"Basic {token}"}
