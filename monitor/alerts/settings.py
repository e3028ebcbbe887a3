"""Reading one `[[alerts]]` table: typed getters whose errors name the file and key.

Each channel reads its own keys through a `Settings`; keys nobody read are
reported as unknown, so a typo (`min_significanse`) fails loudly at start-up
instead of silently sending everything.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.config import AlertConfig
from monitor.errors import ConfigError
from monitor.untrusted import one_line
from monitor.validation import env_name_problem, parse_duration


class Settings:
    def __init__(self, alert: AlertConfig, index: int, path: Path | None) -> None:
        self.alert = alert
        self.index = index
        self.where = str(path) if path else "configuration"
        self.base = path.resolve().parent if path else None
        self._read: set[str] = set()

    @property
    def name(self) -> str:
        return self.alert.name

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: alerts[{self.index}].{key}: {problem}")

    def raw(self, key: str) -> Any:
        self._read.add(key)
        return self.alert.settings.get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        self._no_controls(key, value)
        return value

    def _no_controls(self, key: str, value: str) -> None:
        """A setting may end up in a mail header or a request line, where a CR or LF
        would start a header of its own (Bcc: …): control characters are refused."""
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise self.fail(key, f"{one_line(value)!r} holds a line break or another "
                            "control character")

    def texts(self, key: str, default: Sequence[str] = ()) -> tuple[str, ...]:
        """A list of strings; a single string is taken as a list of one."""
        value = self.raw(key)
        if value is None:
            return tuple(default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        for item in value:
            self._no_controls(key, item)
        return tuple(value)

    def choice(self, key: str, choices: Sequence[str], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    def choices(self, key: str, choices: Sequence[str]) -> tuple[str, ...]:
        values = self.texts(key, choices)
        unknown = [v for v in values if v not in choices]
        if unknown:
            raise self.fail(key, f"{unknown[0]!r} is not one of {', '.join(choices)}")
        return values

    def integer(self, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if (isinstance(value, bool) or not isinstance(value, int) or value < minimum
                or (maximum is not None and value > maximum)):
            top = "" if maximum is None else f" and <= {maximum}"
            raise self.fail(key, f"must be a whole number >= {minimum}{top}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def duration(self, key: str, default: float) -> float:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def path(self, key: str) -> str | None:
        """A file path; a relative one is relative to the configuration file."""
        value = self.text(key)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = (self.base / path) if self.base else path.resolve()
        if not path.is_file():
            raise self.fail(key, f"{str(path)!r} is not a file")
        return str(path)

    def env_name(self, key: str, *, required: bool = False) -> str | None:
        """The name of an environment variable; its value is read at use (`secret`)."""
        value = self.text(key, required=required)
        if value is not None and (problem := env_name_problem(value)):
            raise self.fail(key, problem)
        return value

    def check_known(self) -> None:
        unknown = sorted(set(self.alert.settings) - self._read)
        if unknown:
            raise self.fail(unknown[0], "unknown key for a "
                            f"{self.alert.kind} channel (known: {', '.join(sorted(self._read))})")


def secret(where: str, env_name: str) -> str:
    """The value of an environment variable named in the config, read when it is used."""
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(f"{where}: environment variable {env_name} is not set")
    return value
