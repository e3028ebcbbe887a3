"""The `[[alerts]]` tables that `monitor alerts add/list/remove` write, show and take
out: a new table is built into a channel exactly as config load builds it (errors
name the command-line option), secrets are refused on the command line, and what
people see of a channel never holds a secret."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.alerts.channels import Route, route
from monitor.alerts.settings import Settings
from monitor.config import AlertConfig, Config
from monitor.errors import ConfigError, UsageError

# Query parameters whose value is a credential (compared lower-case, without - and _):
# these names, and any name holding one of the words after them.
_SECRET_PARAMETERS = frozenset({"key", "pass", "pwd", "sig", "auth", "code"})
_SECRET_WORDS = ("token", "secret", "password", "passwd", "signature", "apikey", "accesskey",
                 "privatekey", "credential", "authorization", "xamz")
# Services whose webhook URL is itself the credential (the token is in the path).
_TOKEN_PATHS = (("hooks.slack.com", "/services/"), ("discord.com", "/api/webhooks/"),
                ("discordapp.com", "/api/webhooks/"), ("webhook.office.com", "/"),
                ("outlook.office.com", "/webhook"), ("api.telegram.org", "/bot"),
                ("hooks.zapier.com", "/hooks/"), ("maker.ifttt.com", "/trigger/"))
# A path segment this long and this random is a capability, whatever the service.
_TOKEN_SEGMENT = re.compile(r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}")
# How the command line takes an environment variable's name: capitals, as such names are
# written (a lower-case or mixed word is more likely the secret itself, typed by mistake).
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
# What the command line says instead of the secret itself, per refused option.
ENV_INSTEAD = {"password": "--password-env", "username": "--username-env",
               "secret": "--secret-env", "access-key": "--access-key-env",
               "secret-key": "--secret-key-env", "url": "--url-env"}


def option(key: str) -> str:
    """The command-line option that sets `key` (`password_env` -> `--password-env`)."""
    return "NAME" if key == "name" else "--" + key.replace("_", "-")


class _FromCommandLine(Settings):
    """Settings whose errors name the option that was given, not the file's key."""

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{option(key)}: {problem}")


def built(config: Config, name: str, kind: str, values: dict[str, Any]) -> Route:
    """The channel that the table `values` makes, checked as config load checks it
    (ConfigError naming the option); a NAME already in use is refused."""
    for index, alert in enumerate(config.alerts):
        if alert.name == name:
            raise UsageError(f"a channel named {name!r} is configured already (alerts[{index}] "
                             f"in {config.path}): `monitor alerts remove {name}` first, or "
                             "choose another name")
    settings = _FromCommandLine(AlertConfig(name, kind, values), len(config.alerts),
                                config.path)
    return route(settings, config)


def refuse_secrets(kind: str, given: dict[str, str | None]) -> None:
    """A secret typed on the command line stays in the shell's history, in `ps` and in
    monitor.toml: refused, naming the option that takes an environment variable."""
    for flag, value in given.items():
        if value is not None:
            raise UsageError(f"--{flag}: {_a(kind)} channel takes no secret on the command "
                             f"line (it would stay in your shell history and in the "
                             f"config file): put it in an environment variable and name it "
                             f"with {ENV_INSTEAD[flag]} VAR")


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def url_secret(url: str) -> str | None:
    """What makes `url` plainly a secret (a password in it, or a token parameter), or None."""
    try:
        parts = urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:
        return None  # not a URL: the channel says so
    if password or user:
        return "carries a user name or password (user:password@)"
    for where, text in (("query", parts.query), ("fragment", parts.fragment)):
        for name, _ in parse_qsl(text, keep_blank_values=True):
            word = name.lower().replace("-", "").replace("_", "")
            if word in _SECRET_PARAMETERS or any(w in word for w in _SECRET_WORDS):
                return f"carries a credential in its {where} ({name}=…)"
    host = (parts.hostname or "").lower()
    for service, path in _TOKEN_PATHS:
        if (host == service or host.endswith("." + service)) and parts.path.startswith(path):
            return f"is {service}'s webhook address, whose path is its secret token"
    if any(_TOKEN_SEGMENT.fullmatch(segment) for segment in parts.path.split("/")):
        return "carries what looks like a secret token in its path"
    return None


def env_name_problem(value: str) -> str | None:
    """Why `value` is not taken as an environment variable's name here, or None."""
    if ENV_NAME.fullmatch(value):
        return None
    return (f"{value[:4]}… is not an environment variable's name in capitals (A-Z, 0-9, _; "
            "e.g. SMTP_PASSWORD): give the name of the variable that holds the secret, "
            "never the secret itself")


@dataclass(frozen=True)
class NeededVariable:
    key: str  # the table's key, e.g. password_env
    variable: str
    is_set: bool


def variables(channel: Route) -> list[NeededVariable]:
    """The environment variables the channel reads when it sends, set or not here."""
    return [NeededVariable(s.key, s.value, bool(s.is_set))
            for s in channel.channel.shown() if s.is_set is not None and s.value]


def export_hint(needed: NeededVariable) -> str:
    example = {"secret_env": "whsec_…"}.get(needed.key, "…")
    return f"export {needed.variable}='{example}'"


def described(channel: Route) -> dict[str, Any]:
    """One configured channel as `monitor alerts list` shows it: no secret's value."""
    policy, audience = channel.policy, channel.audience
    return {
        "name": channel.name, "kind": channel.channel.kind, "target": channel.channel.target,
        "settings": {s.key: s.value for s in channel.channel.shown() if s.is_set is None},
        "sources": list(policy.sources), "min_significance": policy.min_significance,
        "events": list(policy.events), "language": audience.reader.language,
        "timezone": audience.reader.timezone,
        "digest_seconds": audience.digest,
        "variables": [{"key": v.key, "variable": v.variable, "set": v.is_set}
                      for v in variables(channel)],
    }


def relative_path(value: str, config: Config) -> str:
    """A path given on the command line (relative to where it was typed) as the
    config file reads it (relative to the file's folder, when it is inside it)."""
    path = os.path.abspath(os.path.expanduser(value))
    base = str(config.path.resolve().parent) if config.path else os.getcwd()
    inside = os.path.commonpath([path, base]) == base
    return os.path.relpath(path, base) if inside else path
