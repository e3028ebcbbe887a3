"""The shipped baseline article (MFA, 2025-12-11), as gov.kz's CMS would hold it.

The paragraphs come from the shipped seed capture (`snapshots/`); the body is written
the way the CMS writes it — curly quotes as entities, `&nbsp;` here and there, an image
with a caption, an empty paragraph — so extraction must decode and normalize back to
exactly the seed's paragraphs.
"""

from __future__ import annotations

from pathlib import Path

from monitor.normalize import parse_capture
from monitor.replica.articles import paragraph_html
from monitor.shipped import snapshot

SEED_NAME = "govkz-mfa-2025-12-11-human-rights-penitentiary.en.txt"

ENTITY = "mfa"
LANG = "en"
TITLE = (
    "Human Rights and the Development of the Penitentiary System: "
    "National Priorities and International Standards"
)
SLUG = "human-rights-and-the-development-of-the-penitentiary-system"  # the shipped URL's
CREATED_DATE = "2025-12-11T10:15:00.000+05:00"


def seed_path() -> Path:
    """The seed capture shipped in the package."""
    return snapshot(SEED_NAME)


def seed_paragraphs(path: Path | None = None) -> list[str]:
    """The seed capture's paragraphs, read as the monitor reads a baseline."""
    text = (path or seed_path()).read_text(encoding="utf-8")
    return list(parse_capture(text).paragraphs)


def baseline_body(paragraphs: list[str]) -> str:
    """The paragraphs as CMS HTML: entities, scattered &nbsp;, an image with a caption."""
    parts: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        words = paragraph_html(paragraph).split(" ")
        # Every 9th space becomes a non-breaking one, as editors' pastes leave them.
        text = "".join(
            word + ("&nbsp;" if i % 9 == 8 else " ") for i, word in enumerate(words)
        ).rstrip(" ")
        parts.append(f'<p style="text-align: justify;">{text}&nbsp;</p>')
        if index == 0:
            parts.append(
                '<figure class="image"><img src="/uploads/2025/12/11/conference.jpg" '
                'alt="Conference"><figcaption>Photo: press service</figcaption></figure>'
            )
            parts.append("<p>&nbsp;</p>")
    return "".join(parts)
