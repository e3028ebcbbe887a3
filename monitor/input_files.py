"""Files a user hands to a command (`add --from-file`, `import`): read with a cap, so a
device, a pipe or a huge file is a one-line refusal and not all of memory."""

from __future__ import annotations

from pathlib import Path

from monitor.errors import UsageError
from monitor.untrusted import one_line


def read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of `path`, at most `cap` of them: UsageError past it or when the file
    cannot be read. The size is counted as read, not taken from stat (0 for /dev/zero
    or a pipe)."""
    shown = one_line(str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > cap:
        raise UsageError(f"{shown}: more than {cap // 2**20} MB; {what} is at most that")
    return data


def read_text_capped(path: Path, cap: int, what: str) -> str:
    """`read_capped`, decoded as UTF-8 (a byte-order mark dropped): UsageError for bytes
    that are not UTF-8 text (a binary given by mistake)."""
    data = read_capped(path, cap, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{one_line(str(path))}: not UTF-8 text (byte {exc.start}); "
                         f"{what} is a text file") from None
