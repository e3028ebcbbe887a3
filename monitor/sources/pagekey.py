"""A page's key: what the extraction of a page depends on, hashed.

Most checks find a page unchanged, and on a page with no ETag that still means
extracting its main text (trafilatura, htmldate) only to compute the hash already
stored. The key short-cuts that: it is the SHA-256 of everything the extraction
reads — the page's tree after the masks are applied (doctype and all), the final
URL, the source's selector and masks, and the versions of the code that extracts.
The extraction is deterministic, so a page whose key is the one recorded for the
source's current text would give that text again: the check is "unchanged"
without extracting anything.

This cannot hide an edit: any edit the extraction could see changes the tree, and
so the key. It only helps when the masks leave a page byte-identical between loads,
which is why the volatile learner also learns attributes and scripts that change
(see `monitor.sources.volatile`); a page with noise it has not learned simply
takes the full path every time, as it would without keys.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version

from lxml import etree

from monitor.sources.base import SourceSpec
from monitor.sources.blocks import Element

# Bump when this package's extraction starts reading a page differently: keys
# recorded before are then never trusted again, and each source takes the full path once.
EXTRACTION_REVISION = 1
_CODE = ";".join(
    [f"revision {EXTRACTION_REVISION}"]
    + [f"{name} {version(name)}" for name in ("trafilatura", "htmldate", "lxml")]
)


def page_key(spec: SourceSpec, url: str, masked: Element) -> str:
    """The key of a page, given its tree with the source's masks already removed."""
    digest = hashlib.sha256()
    settings = (_CODE, url, spec.selector, spec.ignore, spec.volatile)
    digest.update(repr(settings).encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(etree.tostring(masked.getroottree(), method="html", encoding="utf-8"))
    return digest.hexdigest()
