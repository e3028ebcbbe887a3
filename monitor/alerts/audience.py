"""Keys every channel takes about its readers: their language, their timezone,
and whether they want each alert alone or a digest.

  language  en | ru | kk (default: [display] language, else en): summaries,
            headings and dates of the messages
  timezone  IANA name, e.g. "Asia/Almaty" (default: [display] timezone, else
            Asia/Almaty): the times shown in messages
  digest    a period, e.g. "1h" or "1d" (default: none, each alert alone): one
            message per period with every alert of it, grouped by document,
            the most significant first. Periods are aligned to the channel's
            timezone: "1d" closes at midnight, "1h" on the hour, "15m" at :00,
            :15, :30 and :45; the message goes out at the first dispatch after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.alerts.settings import Settings
from monitor.config import Config
from monitor.i18n import LANGUAGES, Reader, timezone_problem

MIN_DIGEST = 1.0  # seconds; periods this short are for tests and demos


@dataclass(frozen=True)
class Audience:
    reader: Reader = field(default_factory=Reader)
    digest: float | None = None  # the period in seconds; None: each alert alone

    @classmethod
    def read(cls, settings: Settings, config: Config) -> Audience:
        language = settings.choice("language", LANGUAGES, config.display_language)
        timezone = settings.text("timezone", config.display_timezone)
        if problem := timezone_problem(timezone):
            raise settings.fail("timezone", problem)
        digest = None
        if settings.raw("digest") is not None:
            digest = settings.duration("digest", 0.0)
            if digest < MIN_DIGEST:
                raise settings.fail("digest", f"{settings.raw('digest')!r} is too short "
                                    "(at least 1s; e.g. 1h or 1d)")
        return cls(Reader(language, timezone), digest)
