"""Which addresses a probe may contact: the SSRF guard.

A checker connects to addresses that strangers publish in DNS, so a hostile domain could point
its MX or ``mta-sts`` host at our own loopback, the cloud metadata service or an internal network.
Every HTTPS and SMTP connection therefore passes :func:`blocked_reason` *after* resolution, and the
probe connects to exactly the address that was checked (never re-resolving the name).

The tables follow the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its
updates). Where the registry marks a block "globally reachable" only in parts (192.0.0.0/24,
2001::/23), the whole block is refused: no mail or policy host lives there. IPv6 outside global
unicast 2000::/3 is refused, except the forms that embed an IPv4 address, which are judged by the
embedded address.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

_IPV4_REFUSED: tuple[tuple[_V4, str], ...] = (
    (_V4("0.0.0.0/8"), "this network"),  # RFC 791; 0.0.0.0 reaches the local host on Linux
    (_V4("10.0.0.0/8"), "private"),  # RFC 1918
    (_V4("100.64.0.0/10"), "shared address space"),  # RFC 6598 (carrier-grade NAT)
    (_V4("127.0.0.0/8"), "loopback"),  # RFC 1122 §3.2.1.3
    (_V4("169.254.0.0/16"), "link-local"),  # RFC 3927 (cloud metadata lives here)
    (_V4("172.16.0.0/12"), "private"),  # RFC 1918
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),  # RFC 6890
    (_V4("192.0.2.0/24"), "documentation"),  # RFC 5737 TEST-NET-1
    (_V4("192.88.99.0/24"), "deprecated 6to4 relay anycast"),  # RFC 7526
    (_V4("192.168.0.0/16"), "private"),  # RFC 1918
    (_V4("198.18.0.0/15"), "benchmarking"),  # RFC 2544
    (_V4("198.51.100.0/24"), "documentation"),  # RFC 5737 TEST-NET-2
    (_V4("203.0.113.0/24"), "documentation"),  # RFC 5737 TEST-NET-3
    (_V4("224.0.0.0/4"), "multicast"),  # RFC 5771
    (_V4("240.0.0.0/4"), "reserved"),  # RFC 1112 §4, includes 255.255.255.255 (broadcast)
)

_IPV6_REFUSED: tuple[tuple[_V6, str], ...] = (
    (_V6("::/128"), "unspecified"),  # RFC 4291 §2.5.2
    (_V6("::1/128"), "loopback"),  # RFC 4291 §2.5.3
    (_V6("64:ff9b:1::/48"), "local-use NAT64"),  # RFC 8215
    (_V6("100::/64"), "discard-only"),  # RFC 6666
    (_V6("100:0:0:1::/64"), "dummy prefix"),  # RFC 9780
    (_V6("2001::/23"), "IETF protocol assignments"),  # RFC 2928 (Teredo handled before)
    (_V6("2001:db8::/32"), "documentation"),  # RFC 3849
    (_V6("3fff::/20"), "documentation"),  # RFC 9637
    (_V6("5f00::/16"), "segment routing"),  # RFC 9602
    (_V6("fc00::/7"), "unique local (private)"),  # RFC 4193
    (_V6("fe80::/10"), "link-local"),  # RFC 4291 §2.5.6
    (_V6("fec0::/10"), "site-local (deprecated)"),  # RFC 3879
    (_V6("ff00::/8"), "multicast"),  # RFC 4291 §2.7
)

_GLOBAL_UNICAST = _V6("2000::/3")  # RFC 4291 §2.4; everything else is unassigned or special


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The guard as configured: ``allow_private`` (lab mode) lets every address through."""

    allow_private: bool = False

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be contacted, or ``None`` when it may."""
        if self.allow_private:
            return None if parse_address(address) is not None else "not an IP address"
        return blocked_reason(address)


PUBLIC_ONLY = AddressPolicy()


def is_public(address: str | IPAddress) -> bool:
    """True when ``address`` is a publicly routable unicast address a probe may contact."""
    return blocked_reason(address) is None


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` is not public (e.g. ``"loopback"``), or ``None`` when it is."""
    if isinstance(address, str):
        return _text_reason(address)
    return _reason(address)


@functools.lru_cache(maxsize=4096)  # a bulk run meets the same addresses again and again
def _text_reason(address: str) -> str | None:
    parsed = parse_address(address)
    return "not an IP address" if parsed is None else _reason(parsed)


def _reason(parsed: IPAddress) -> str | None:
    if isinstance(parsed, ipaddress.IPv4Address):
        return _ipv4_reason(parsed)
    return _ipv6_reason(parsed)


@functools.lru_cache(maxsize=4096)
def parse_address(address: str) -> IPAddress | None:
    """``address`` (surrounding blanks and brackets allowed) as an IP address, or ``None``."""
    try:
        return ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None


def _ipv4_reason(address: ipaddress.IPv4Address) -> str | None:
    return next((why for net, why in _IPV4_REFUSED if address in net), None)


def _ipv6_reason(address: ipaddress.IPv6Address) -> str | None:
    if address.scope_id:
        return "scoped address"
    fixed = next((why for net, why in _IPV6_REFUSED[:2] if address in net), None)
    if fixed is not None:
        return fixed
    embedded = _embedded_ipv4(address)
    if embedded:
        return _embedded_reason(embedded)
    special = next((why for net, why in _IPV6_REFUSED[2:] if address in net), None)
    if special is not None:
        return special
    return None if address in _GLOBAL_UNICAST else "reserved"


def _embedded_reason(embedded: tuple[tuple[str, ipaddress.IPv4Address], ...]) -> str | None:
    for form, inner in embedded:
        why = _ipv4_reason(inner)
        if why is not None:
            return f"{form} of a {why} IPv4 address"
    return None


_MAPPED = _V6("::ffff:0:0/96")  # RFC 4291 §2.5.5.2
_COMPATIBLE = _V6("::/96")  # RFC 4291 §2.5.5.1 (deprecated)
_TRANSLATED = _V6("::ffff:0:0:0/96")  # RFC 6145 §2.1 (SIIT)
_NAT64 = _V6("64:ff9b::/96")  # RFC 6052 §2.1
_SIX_TO_FOUR = _V6("2002::/16")  # RFC 3056 §2
_TEREDO = _V6("2001::/32")  # RFC 4380 §4


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[tuple[str, ipaddress.IPv4Address], ...]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    for net, form in (
        (_MAPPED, "IPv4-mapped form"),
        (_COMPATIBLE, "IPv4-compatible form"),
        (_TRANSLATED, "IPv4-translated form"),
        (_NAT64, "NAT64 form"),
    ):
        if address in net:
            return ((form, low32),)
    if address in _SIX_TO_FOUR:
        return (("6to4 form", ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)),)
    if address in _TEREDO:
        server = ipaddress.IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
        client = ipaddress.IPv4Address(~int(address) & 0xFFFFFFFF)  # RFC 4380 §4: obfuscated
        return (("Teredo server form", server), ("Teredo client form", client))
    return ()
