"""What a rendered page may ask for, and how it is fetched: every request the page
makes is performed by the monitor's own HTTP machinery (monitor.fetch's session over
monitor.netguard's guarded connections), not by the browser's network stack, and the
answer is handed to the browser. So the internal-address policy holds on the address
actually connected to (a name that resolves to a public address for a check and to
127.0.0.1 for the connection is refused, as for a plain fetch), the size cap and the
deadline hold, and the main document's HTTP answer is the one kept as evidence.

Third-party requests (another registrable domain than the page's; for an address or
a one-label host, another host) are refused unless `[render] third_party = true`.
Politeness: the main document waits for its host's slot and spacing like any fetch;
the page's own requests to its site hold one of the host's slots (no spacing: a page's
twenty scripts a second apart would take longer than the page's whole deadline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from monitor import fetch
from monitor.addresses import AddressBlocked
from monitor.errors import FetchFailed
from monitor.fetch_failures import blocked, failure
from monitor.netguard import fetch_scope

if TYPE_CHECKING:
    from monitor.render.fetcher import RenderingFetcher

# Sent by us or by the connection, never copied from the browser's request; and
# never handed back to it (the body it gets is decoded, whole).
_REQUEST_DROPPED = frozenset({"host", "connection", "content-length", "accept-encoding",
                              "keep-alive", "transfer-encoding", "upgrade", "te"})
_ANSWER_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding",
                             "connection", "keep-alive"})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """One answer relayed to the browser."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]  # as handed to the browser (Set-Cookie lines joined by \n)
    body: bytes
    content_type: str


@lru_cache(maxsize=4096)
def site_of(host: str) -> str:
    """The registrable domain of `host` (news.example.org -> example.org; www.gov.kz
    stays itself, gov.kz being a public suffix); an address or a one-label name is its
    own site."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        ip_address(host)
        return host
    except ValueError:
        pass
    if "." not in host:
        return host
    return _suffixes().privatesuffix(host) or host


@lru_cache(maxsize=1)
def _suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList  # the list ships with the package: no fetch

    return PublicSuffixList()


def same_site(url: str, page_host: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return bool(host) and site_of(host) == site_of(page_host)


def relay(fetcher: RenderingFetcher, method: str, url: str, headers: Mapping[str, str],
          body: bytes | None, deadline: float, main: bool,
          ca_bundle: str | None = None) -> Answer:
    """Perform one of the page's requests (redirects not followed: the browser follows
    them, asking again through here). FetchFailed for whatever stops it; AddressBlocked
    (a FetchFailed `blocked`) for an address the policy refuses."""
    if deadline <= 0:
        raise FetchFailed("timeout", f"{url}: the page's time ran out")
    sent = {k: v for k, v in headers.items() if k.lower() not in _REQUEST_DROPPED}
    sent["User-Agent"] = str(fetcher.session.headers["User-Agent"])
    try:
        prepared = requests.Request(method.upper(), url, headers=sent, data=body or None).prepare()
    except (requests.RequestException, ValueError) as exc:
        raise failure(url, exc, fetcher.settings) from exc
    gate = fetcher.main_gate(url).slot() if main else fetcher.page_gate(url).held()
    with gate, fetch_scope(fetcher.addresses, deadline):
        try:
            settings = fetcher.settings
            answer = fetcher.session.send(
                prepared, stream=True, allow_redirects=False,
                verify=ca_bundle or settings.ca_bundle or True,
                timeout=(settings.connect_timeout, settings.read_timeout))
        except AddressBlocked as exc:
            raise blocked(url, exc) from None
        except (requests.RequestException, ValueError) as exc:
            raise failure(url, exc, fetcher.settings) from exc
        with answer:
            content = _body(fetcher, answer)
    handed: dict[str, str] = {}
    for name, value in answer.raw.headers.items():
        if name.lower() in _ANSWER_DROPPED:
            continue
        key = name.lower()
        handed[key] = f"{handed[key]}\n{value}" if key in handed else value
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return Answer(url=url, status=answer.status_code, reason=answer.reason or "",
                  headers=handed, body=content, content_type=content_type)


def _body(fetcher: RenderingFetcher, answer: requests.Response) -> bytes:
    cap = fetcher.settings.max_bytes
    body = bytearray()
    try:
        for chunk in answer.iter_content(chunk_size=_CHUNK):
            body += chunk
            if len(body) > cap:
                raise FetchFailed("too_large", f"{answer.url}: response body larger than "
                                  f"{cap} bytes", status=answer.status_code)
    except (requests.RequestException, OSError) as exc:
        raise failure(answer.url, exc, fetcher.settings) from exc
    return bytes(body)


def status_failure(answer: Answer) -> FetchFailed | None:
    """What a plain fetch makes of the main document's status (monitor.fetch): None
    for a 2xx."""
    status = answer.status
    if 200 <= status < 300:
        return None
    return fetch.status_failure(answer.url, status,
                                f"{answer.url} answered {status} {answer.reason}".rstrip())
