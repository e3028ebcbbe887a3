"""Tags: short labels people put on sources to group them ("mfa", "human-rights"). The
board filters by them and feeds are made per tag.

A source's tags are a setting like its selector: given in `monitor.toml` or with
`monitor add --tag`, recorded in its events' `options` ("tags"), and kept in the
`sources` projection's options, so `monitor rebuild` brings them back. A source
registered before tags existed has none.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

TAG_MAX = 32
TAGS_MAX = 20  # per source
TAG_RULE = (f"a tag is 1-{TAG_MAX} lowercase letters (any alphabet) or digits, words joined "
            "by '-' (e.g. mfa, human-rights)")


def tag_problem(tag: Any) -> str | None:
    """Why `tag` cannot be a tag, or None."""
    if not isinstance(tag, str):
        return f"{tag!r} is not a tag: {TAG_RULE}"
    if not _is_tag(tag):
        hint = f" (write it {tag.lower()!r})" if _is_tag(tag.lower()) else ""
        shown = tag if len(tag) <= 40 else tag[:40] + "…"
        return f"{shown!r} is not a tag{hint}: {TAG_RULE}"
    return None


def _is_tag(tag: str) -> bool:
    words = tag.split("-")
    return 0 < len(tag) <= TAG_MAX and all(words) and \
        all(_tag_char(ch) for word in words for ch in word)


def _tag_char(ch: str) -> bool:
    return ch in "0123456789" or (ch.isalpha() and ch.islower())


def parse_tags(values: Any) -> tuple[str, ...]:
    """A list of tags as a source keeps them: NFC, each checked, sorted, once each;
    raises ValueError naming the first that is not a tag."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValueError(f"must be a list of tags, e.g. [\"mfa\", \"human-rights\"] ({TAG_RULE})")
    tags = set()
    for value in values:
        tag = unicodedata.normalize("NFC", value) if isinstance(value, str) else value
        if problem := tag_problem(tag):
            raise ValueError(problem)
        tags.add(tag)
    if len(tags) > TAGS_MAX:
        raise ValueError(f"{len(tags)} tags: a source has at most {TAGS_MAX}")
    return tuple(sorted(tags))


def tags_of(options: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The tags kept in a source's options; none for a source recorded without them
    (or with a value no version of the monitor wrote)."""
    found = (options or {}).get("tags")
    if not isinstance(found, list):
        return ()
    return tuple(tag for tag in found if isinstance(tag, str))
