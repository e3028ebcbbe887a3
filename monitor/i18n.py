"""The reader's language and timezone: gettext catalogs (read with Babel) and moments.

English is the source language: the strings in the code and the templates are
the msgids. Russian and Kazakh live as gettext `.po` sources in
monitor/locale/{ru,kk}/LC_MESSAGES/monitor.po; they are read with Babel when
first used (no compile step, so a clean checkout and an installed wheel read
the same files). Moments are written by monitor.moments in the reader's
timezone (IANA names, read with zoneinfo), in one shape for every language.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.moments import human, human_day, zone_label

LANGUAGES = ("en", "ru", "kk")
DEFAULT_LANGUAGE = "en"
# The people who read these alerts read gov.kz: Kazakhstan's time (UTC+5 since 2024).
DEFAULT_TIMEZONE = "Asia/Almaty"
DOMAIN = "monitor"


def language_problem(value: object) -> str | None:
    if value not in LANGUAGES:
        return f"{value!r} is not one of {', '.join(LANGUAGES)}"
    return None


def timezone_problem(value: object) -> str | None:
    """Why `value` is not an IANA timezone name (e.g. Asia/Almaty), or None."""
    if not isinstance(value, str) or not value.strip():
        return "must be an IANA timezone name, e.g. Asia/Almaty"
    try:
        _zone(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"{value!r} is not a known IANA timezone (e.g. Asia/Almaty, Europe/Moscow, UTC)"
    return None


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def translations(language: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The catalog of `language`: the .po source read with Babel. English, and a
    language without a catalog, get the source strings. The alerts and reports use
    the `monitor` domain; the web app's screens have their own, `web`."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    # Imported when first needed: every command reads the configuration, few write text.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = resources.files("monitor") / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    try:
        with source.open("rb") as po:
            catalog = read_po(po, locale=language, domain=domain)
    except FileNotFoundError:
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True)
class Reader:
    """Who reads a message: their language and timezone."""

    language: str = DEFAULT_LANGUAGE
    timezone: str = DEFAULT_TIMEZONE

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.language).ngettext(singular, plural, n)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A stored moment (naive UTC) in the reader's timezone."""
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def moment(self, moment: datetime) -> str:
        """'2026-01-05 14:30 +05:00' in the reader's timezone: the one human form
        (monitor.moments.human), the same shape in every language."""
        return human(moment, self.zone)

    def day(self, moment: datetime) -> str:
        """'2026-01-05': the date of a moment in the reader's timezone."""
        return human_day(moment, self.zone)

    def zone_label(self, at: datetime | None = None) -> str:
        """'Asia/Almaty (UTC+05:00)': which zone this reader's times are in."""
        return zone_label(self.timezone, at)


DEFAULT_READER = Reader()
