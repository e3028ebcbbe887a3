"""Names for sources, derived from their URLs: readable, and never shared by two URLs.

A name is what a user types (`monitor history NAME`) and the id of the source's
stream, so it is stable forever. It is made of the URL's words in any alphabet
(`adilet-zan-kz-docs-приказ-318`), its query included (`example-com-news-php-id-2`).
When that readable name is already taken by another URL, a short hash of the URL
is added (`example-com-a-b-3f9c2a1e`), so two URLs never collapse into one source;
the same URL, spelled a little differently, is the same source (`same_url`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from monitor.validation import NAME_MAX, name_char

GOVKZ_ARTICLE = re.compile(r"/memleket/entities/([^/]+)/press/news/details/([^/?#]+)")
READABLE_MAX = 80  # characters of URL words; a suffix, when one is needed, comes on top
SUFFIX_LENGTHS = (8, 16, 64)  # hex digits of the URL's sha256; longer only on a clash
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_PLAIN = re.compile(r"[!-$&-~]*")  # printable ASCII but '%' (0x25)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def derive_name(url: str, kind: str) -> str:
    """The readable name of a URL: govkz-mfa-12345-en for a gov.kz article (the names
    stores already hold), else the words of its host, path and query, lowercased,
    after `list-` for a kind that lists items."""
    parts = urlsplit(url)
    match = GOVKZ_ARTICLE.search(parts.path)
    if match and on_the_portal(url):
        lang = parse_qs(parts.query).get("lang", [""])[0]
        name = f"govkz-{match.group(1)}-{match.group(2)}" + (f"-{lang}" if lang else "")
        return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:120]
    host = _host(parts.hostname or "").removeprefix("www.")
    port = f" {parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme) \
        else ""
    text = " ".join((host + port, _readable(parts.path), _readable(parts.query)))
    name = _join(_words(text)) or "source"
    return f"list-{name}" if _lists_items(kind) else name


def on_the_portal(url: str) -> bool:
    """Whether `url`'s host may be the gov.kz portal: gov.kz itself or one of its
    subdomains, or an address on your own network (a mirror, a replica). A look-alike
    host (`www.gov.kz.example`, `evilgov.kz`) never takes a portal article's name or
    kind: it could hold a name a journalist trusts, before the portal's own page."""
    from monitor.addresses import numeric_address, refusal

    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "gov.kz" or host.endswith(".gov.kz") or host == "localhost":
        return True
    address = numeric_address(host)
    return address is not None and refusal(address) is not None


def _lists_items(kind: str) -> bool:
    """Whether the adapter of `kind` declares it lists items (a list's name says so)."""
    from monitor.sources import KINDS  # on use: the adapters' modules are not light

    adapter = KINDS.get(kind)
    return adapter is not None and adapter.lists_items


def with_suffix(name: str, url: str, length: int = SUFFIX_LENGTHS[0]) -> str:
    """`name` made unique to `url`: a stable hash of the URL added."""
    digest = hashlib.sha256(same_url(url).encode("utf-8")).hexdigest()[:length]
    return f"{name[:NAME_MAX - length - 1]}-{digest}"


def without_fragment(url: str) -> str:
    """`url` without its '#fragment': a fragment is never sent to a server, so it names
    no other page, and what follows '#' (even a password) must not reach the log."""
    return url.split("#", 1)[0]


def registered_url(url: str) -> str:
    """`url` as a new source is registered: no fragment, no '.' or '..' path segments
    and no trailing dot on its host, so the log holds the page's plain address.
    Everything else is kept as given (an existing source's URL is never rewritten:
    `catalog.register` keeps the stored spelling of the same page)."""
    url = without_fragment(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url  # refused by url_problem, which quotes it as given
    netloc = re.sub(r"\.(?=(?::[0-9]*)?$)", "", parts.netloc)
    return urlunsplit(parts._replace(netloc=netloc, path=_without_dot_segments(parts.path)))


def same_url(url: str) -> str:
    """The URL in one spelling, so that two spellings of one address compare equal:
    scheme and host in lower case (an IDNA host in Unicode, no trailing dot), no
    default port, no '.' or '..' path segments, the
    percent-encoding of path and query in one form, and no fragment (the server never
    sees it). Anything that could change what the server answers is kept as it is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = _host(parts.hostname or "").removesuffix(".")  # example.com. is example.com
    if ":" in netloc:
        netloc = f"[{netloc}]"  # an IPv6 literal
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    query = f"?{_encoded(parts.query)}" if parts.query else ""
    path = _without_dot_segments(_encoded(parts.path))  # after %2E became '.'
    return f"{scheme}://{netloc}{path or '/'}{query}"


def _without_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: '/a/./b' and '/a/../a/b' are '/a/b', as a server resolves them."""
    segments = path.split("/")
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and len(kept) > 1:
                kept.pop()
            if last:
                kept.append("")  # '/a/b/..' is the folder '/a/'
            continue
        kept.append(segment)
    return "/".join(kept)


def _host(hostname: str) -> str:
    """A host name in Unicode (xn--e1afmkfd.xn--p1ai is пример.рф), lowercased."""
    try:
        return hostname.encode("ascii").decode("idna").lower()
    except UnicodeError:
        return hostname.lower()


def _encoded(text: str) -> str:
    """Percent-encoding in one form: unreserved characters decoded, other escapes in
    upper case, non-ASCII characters encoded as UTF-8; '%2F' stays unlike '/'."""

    def escape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    if _PLAIN.fullmatch(text):
        return text  # printable ASCII, no escapes: already in that form
    raw = _PERCENT.sub(escape, text)
    return "".join(ch if ord(ch) < 128 and not ch.isspace() else
                   "".join(f"%{byte:02X}" for byte in ch.encode("utf-8")) for ch in raw)


def _readable(text: str) -> str:
    """Percent-escapes decoded (a Cyrillic path arrives encoded), NFC, lowercased."""
    return unicodedata.normalize("NFC", unquote(text, errors="replace").lower())


def _words(text: str) -> list[str]:
    """Runs of letters (of any script, with their marks) and digits."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if name_char(ch) and ch not in "._-":
            if current or not unicodedata.category(ch).startswith("M"):  # no leading mark
                current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _join(words: list[str]) -> str:
    """Words joined by '-', as many whole words as fit in READABLE_MAX characters."""
    name = ""
    for word in words:
        joined = f"{name}-{word}" if name else word
        if len(joined) > READABLE_MAX:
            return name or word[:READABLE_MAX]
        name = joined
    return name
