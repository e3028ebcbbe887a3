"""Which addresses a fetch may connect to: public ones, unless the operator opts in.

Anyone who can add a source, or edit a page that a list source follows, or answer
with a redirect, chooses where the monitor connects. Left open, that reaches the
cloud's metadata service (169.254.169.254 hands out credentials) and the operator's
own network. So loopback, private, link-local, shared (CGNAT), multicast, reserved,
unspecified and metadata addresses are refused, IPv4-mapped and NAT64 forms of them
included, unless `[fetch] allow_private_networks = true` or
MONITOR_ALLOW_PRIVATE_NETWORKS=1. The check is made on the address a name resolves
to, at connect time (see monitor.netguard); here are the rules and the resolver.

Alert destinations (SMTP relay, webhook receivers) are the operator's own settings
and are not checked.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from monitor.errors import ConfigError, FetchFailed

ENV = "MONITOR_ALLOW_PRIVATE_NETWORKS"
HOW_TO_ALLOW = f"set [fetch] allow_private_networks = true or {ENV}=1 to allow it"

# Instance metadata services: AWS, GCP, Azure, OpenStack (169.254.169.254), AWS over
# IPv6, AWS ECS task metadata, Alibaba Cloud. Named apart so the error says what it is.
METADATA = frozenset(ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200"))
_CGNAT = ip_network("100.64.0.0/10")  # shared address space (RFC 6598)
_NAT64 = ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4

Address = IPv4Address | IPv6Address
Resolver = Callable[[str], Sequence[str]]


def private_networks_allowed() -> bool:
    """What MONITOR_ALLOW_PRIVATE_NETWORKS says (unset: no)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{ENV}={value!r}: use 1 to allow private networks, 0 to refuse them")


def system_resolver(host: str) -> list[str]:
    """The addresses `host` resolves to, in the order the system prefers them."""
    infos = socket.getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def numeric_address(host: str) -> str | None:
    """The address a host written as a number stands for (also the short IPv4
    forms the C library accepts: 127.1, 0x7f000001, 2130706433); None for a name."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, socket.AF_UNSPEC,
                                   socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return str(infos[0][4][0]) if infos else None


def refusal(address: str) -> str | None:
    """What kind of internal address `address` is ("a loopback address"), or None
    for a public one."""
    ip: Address = ip_address(address)
    if isinstance(ip, IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:  # reaches the IPv4 address it carries
            return refusal(str(embedded))
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, IPv4Address) and ip in _CGNAT:
        return "a shared (carrier-grade NAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


class AddressBlocked(FetchFailed):
    """A connection to an internal address was refused (kind `blocked`)."""

    def __init__(self, host: str, address: str, why: str) -> None:
        self.host = host
        self.address = address
        said = (f"{address} is {why}" if numeric_address(host) is not None
                else f"{host} resolves to {address}, {why}")
        super().__init__("blocked", f"{said}; {HOW_TO_ALLOW}")


@dataclass(frozen=True)
class AddressPolicy:
    """Where connections may go. `allow_private`: anywhere. `exempt`: addresses or
    networks let through although internal (e.g. one intranet server, or a test's
    server on 127.0.0.1). `resolve`: host name -> addresses (injectable, so a test can
    play a DNS server that changes its answers)."""

    allow_private: bool = False
    exempt: Collection[str] = ()
    resolve: Resolver = system_resolver

    def allowed_addresses(self, host: str) -> list[str]:
        """The addresses of `host` a connection may use, resolving it once: connect
        to these, never to a fresh resolution. AddressBlocked when there are none;
        socket.gaierror when the name does not resolve."""
        host = host.strip("[]")
        literal = numeric_address(host)
        found = [literal] if literal is not None else list(self.resolve(host))
        if self.allow_private:
            return found
        allowed, refused = [], []
        for address in found:
            why = None if self._exempt(address) else refusal(address)
            if why is None:
                allowed.append(address)
            else:
                refused.append((address, why))
        if not allowed and refused:
            raise AddressBlocked(host, *refused[0])
        return allowed

    def _exempt(self, address: str) -> bool:
        ip = ip_address(address)
        return any(ip in ip_network(item, strict=False) for item in self.exempt)


def url_refusal(url: str, allow_private: bool) -> str | None:
    """Why `url` is refused before any lookup (its host is an internal address
    written as a number, or `localhost`), or None. Names are checked at connect time."""
    if allow_private:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always loopback
        return f"{url}: {host} is a loopback address; {HOW_TO_ALLOW}"
    address = numeric_address(host)
    why = refusal(address) if address is not None else None
    return None if why is None else f"{url}: {address} is {why}; {HOW_TO_ALLOW}"
