"""A change alert's screenshot as an e-mail attachment (`attach_screenshot = true`).

The alert names the new version's screenshot by its sha256 (monitor.alerts.derive);
the PNG is read from the store when the message is written, verified against that
hash. A screenshot is page-derived and may be large: it goes only when its bytes are
a PNG and it is at most MAX_BYTES; otherwise, or when the store cannot give it, the
alert still goes, and its text says why the picture is not attached and how to get it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from monitor.alerts.alert import Alert
from monitor.errors import PersistenceError
from monitor.i18n import Reader
from monitor.screenshots import is_png
from monitor.store.snapshots import get_blob

# Base64 makes 5 MB about 6.8 MB on the wire: under the 10 MB many mail servers take,
# with the message's own text and HTML beside it.
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    png: bytes | None  # None: not attached (`note` says why)
    filename: str
    note: str | None = None


def screenshot_attachment(engine: Engine, alert: Alert, r: Reader) -> Attachment | None:
    if alert.screenshot is None or alert.record is None or alert.record.to_version is None:
        return None
    number = alert.record.to_version.number
    name = f"{_file_safe(alert.source_name)}-v{number}.png"
    command = f"monitor show {alert.source_name}@{number} --screenshot {name}"
    _ = r.gettext
    try:
        with engine.connect() as conn:
            png = get_blob(conn, alert.screenshot)
    except PersistenceError:
        return Attachment(None, name, _("The screenshot of this version could not be read "
                                        "from the store (`monitor verify` says why).")
                          + f" {command}")
    if not is_png(png):
        return Attachment(None, name, _("The screenshot stored for this version is not a "
                                        "PNG image, so it is not attached."))
    if len(png) > MAX_BYTES:
        return Attachment(None, name, _("The screenshot of this version ({size} MB) is larger "
                                        "than the {cap} MB an e-mail carries; get it with: "
                                        "{command}").format(size=_mb(len(png)),
                                                            cap=_mb(MAX_BYTES),
                                                            command=command))
    return Attachment(png, name)


def _file_safe(name: str) -> str:
    """The source's name as a file name: letters, digits, '.', '-' and '_' kept."""
    return re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip(".-") or "screenshot"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")
