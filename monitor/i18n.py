"""The reader's language and timezone: gettext catalogs and Babel dates.

English is the source language: the strings in the code and the templates are
the msgids. Russian and Kazakh live as gettext `.po` sources in
monitor/locale/{ru,kk}/LC_MESSAGES/monitor.po; they are read with Babel when
first used (no compile step, so a clean checkout and an installed wheel read
the same files). Moments are formatted with Babel in the reader's locale and
timezone (IANA names, read with zoneinfo).
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
        """'January 5, 2026, 2:30:12 PM +0500': the locale's long form, in the
        reader's timezone, with its UTC offset so readers elsewhere can compare."""
        from babel.dates import format_datetime

        return format_datetime(self.local(moment.replace(microsecond=0)), "long",
                               tzinfo=self.zone, locale=self.language)

    def day(self, moment: datetime) -> str:
        """'5 January 2026': the date of a moment in the reader's timezone."""
        from babel.dates import format_date

        return format_date(self.local(moment).date(), "long", locale=self.language)


DEFAULT_READER = Reader()
