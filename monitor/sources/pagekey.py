"""A page's key: what the extraction of a page depends on, hashed.

Most checks find a page unchanged, and on a page with no ETag that still means
extracting its main text (trafilatura, htmldate) only to compute the hash already
stored. The key short-cuts that: it is the SHA-256 of everything the extraction
reads — the page's tree after the masks are applied (doctype and all), the final
URL, the source's selector and masks, the versions of the code that extracts (this
package and the libraries under it, libxml2 included), and today's date, because
the date reader refuses dates later than today: a page dated tomorrow gets its date
once tomorrow comes. Given all that, the extraction gives the same text again, so a
page whose key is the one recorded for the source's current text is "unchanged"
without extracting anything; the first check of each day extracts once.

Any edit the extraction could see changes the tree, and so the key. The key only
helps when the masks leave a page byte-identical between loads, which is why the
volatile learner also learns attributes and scripts that change (see
`monitor.sources.volatile`); a page with noise it has not learned simply takes the
full path every time, as it would without keys.
"""

from __future__ import annotations

import hashlib
from datetime import date
from importlib.metadata import PackageNotFoundError, version

from lxml import etree

from monitor.sources.base import SourceSpec
from monitor.sources.blocks import Element

# Bump when this package's extraction starts reading a page differently within one
# release: keys recorded before are then never trusted again.
EXTRACTION_REVISION = 2  # 2: control and noncharacters dropped before parsing
_EXTRACTING = ("govkz-monitor", "trafilatura", "htmldate", "justext", "courlan",
               "dateparser", "lxml", "lxml_html_clean", "charset-normalizer")


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


_CODE = ";".join(
    [f"revision {EXTRACTION_REVISION}", "libxml2 " + ".".join(map(str, etree.LIBXML_VERSION))]
    + [f"{name} {_installed(name)}" for name in _EXTRACTING]
)


def item_key(*fields: object) -> str:
    """The key of an API item: the fields its document is read from (and the code
    that reads them), hashed. An item whose other fields move on every answer (a view
    counter, the order of keys in the JSON) keeps its key while these stay put."""
    settings = (_CODE, *fields)
    return hashlib.sha256(repr(settings).encode("utf-8", "surrogatepass")).hexdigest()


def page_key(spec: SourceSpec, url: str, masked: Element) -> str:
    """The key of a page, given its tree with the source's masks already removed."""
    digest = hashlib.sha256()
    settings = (_CODE, date.today().isoformat(), url, spec.selector, spec.ignore,
                spec.volatile)
    digest.update(repr(settings).encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(etree.tostring(masked.getroottree(), method="html", encoding="utf-8"))
    return digest.hexdigest()
