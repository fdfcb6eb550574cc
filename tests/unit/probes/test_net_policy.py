"""The SSRF guard: which addresses a probe may contact."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.probes.net_policy import AddressPolicy, blocked_reason, is_public

PUBLIC = [
    pytest.param("8.8.8.8", id="v4-public"),
    pytest.param("1.1.1.1", id="v4-public-2"),
    pytest.param("192.31.196.1", id="v4-as112-is-global"),
    pytest.param("100.63.255.255", id="v4-just-below-shared"),
    pytest.param("172.32.0.1", id="v4-just-above-rfc1918"),
    pytest.param("2a00:1450:4001:80b::200e", id="v6-global-unicast"),
    pytest.param("::ffff:8.8.8.8", id="v4-mapped-public"),
    pytest.param("64:ff9b::808:808", id="nat64-public"),
    pytest.param("2002:808:808::1", id="6to4-public"),
    pytest.param("2001:0:4136:e378:8000:63bf:f7f7:f7f7", id="teredo-public-client-and-server"),
]

REFUSED = [
    pytest.param("127.0.0.1", "loopback", id="v4-loopback"),
    pytest.param("127.0.4.9", "loopback", id="v4-loopback-range"),
    pytest.param("10.1.2.3", "private", id="rfc1918-10"),
    pytest.param("172.16.0.1", "private", id="rfc1918-172"),
    pytest.param("192.168.1.1", "private", id="rfc1918-192"),
    pytest.param("100.64.0.1", "shared address space", id="cgnat"),
    pytest.param("169.254.169.254", "link-local", id="cloud-metadata"),
    pytest.param("0.0.0.0", "this network", id="v4-unspecified"),
    pytest.param("0.1.2.3", "this network", id="this-network"),
    pytest.param("192.0.0.170", "IETF protocol assignments", id="ietf-assignments"),
    pytest.param("192.0.2.1", "documentation", id="test-net-1"),
    pytest.param("198.51.100.7", "documentation", id="test-net-2"),
    pytest.param("203.0.113.9", "documentation", id="test-net-3"),
    pytest.param("198.18.0.1", "benchmarking", id="benchmarking"),
    pytest.param("192.88.99.1", "deprecated 6to4 relay anycast", id="6to4-relay"),
    pytest.param("224.0.0.1", "multicast", id="v4-multicast"),
    pytest.param("240.0.0.1", "reserved", id="v4-reserved"),
    pytest.param("255.255.255.255", "reserved", id="broadcast"),
    pytest.param("::", "unspecified", id="v6-unspecified"),
    pytest.param("::1", "loopback", id="v6-loopback"),
    pytest.param("fd00::1", "unique local (private)", id="ula"),
    pytest.param("fe80::1", "link-local", id="v6-link-local"),
    pytest.param("fe80::1%2", "scoped address", id="v6-scoped"),
    pytest.param("fec0::1", "site-local (deprecated)", id="site-local"),
    pytest.param("ff02::1", "multicast", id="v6-multicast"),
    pytest.param("2001:db8::1", "documentation", id="v6-documentation"),
    pytest.param("3fff::1", "documentation", id="v6-documentation-new"),
    pytest.param("100::1", "discard-only", id="discard-only"),
    pytest.param("64:ff9b:1::1", "local-use NAT64", id="nat64-local-use"),
    pytest.param("2001:2::1", "IETF protocol assignments", id="v6-benchmarking"),
    pytest.param("5f00::1", "segment routing", id="srv6"),
    pytest.param("4000::1", "reserved", id="outside-global-unicast"),
    pytest.param("::ffff:127.0.0.1", "IPv4-mapped form of a loopback IPv4 address", id="mapped"),
    pytest.param("::ffff:10.0.0.1", "IPv4-mapped form of a private IPv4 address", id="mapped-10"),
    pytest.param("::127.0.0.1", "IPv4-compatible form of a loopback IPv4 address", id="compat"),
    pytest.param(
        "::ffff:0:a9fe:a9fe",
        "IPv4-translated form of a link-local IPv4 address",
        id="translated",
    ),
    pytest.param("64:ff9b::7f00:1", "NAT64 form of a loopback IPv4 address", id="nat64-loop"),
    pytest.param("2002:7f00:1::1", "6to4 form of a loopback IPv4 address", id="6to4-loopback"),
    pytest.param("2002:c0a8:101::", "6to4 form of a private IPv4 address", id="6to4-private"),
    pytest.param(
        "2001:0:7f00:1:8000:63bf:f7f7:f7f7",
        "Teredo server form of a loopback IPv4 address",
        id="teredo-server",
    ),
    pytest.param(
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "Teredo client form of a loopback IPv4 address",
        id="teredo-client",
    ),
    pytest.param("mx.example.com", "not an IP address", id="a-name"),
    pytest.param("", "not an IP address", id="empty"),
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    """Publicly routable unicast addresses (and embedded forms of them) pass the guard."""
    assert blocked_reason(address) is None
    assert is_public(address)


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    """Every non-public kind is refused, naming the kind (and the embedding form)."""
    assert blocked_reason(address) == reason
    assert not is_public(address)


def test_parsed_addresses_are_accepted() -> None:
    """An ``ipaddress`` object is judged like its text."""
    assert not is_public(ipaddress.ip_address("127.0.0.1"))
    assert is_public(ipaddress.ip_address("9.9.9.9"))


@pytest.mark.parametrize(
    ("policy", "address", "expected"),
    [
        pytest.param(AddressPolicy(), "127.0.0.1", "loopback", id="default-refuses-loopback"),
        pytest.param(AddressPolicy(), "9.9.9.9", None, id="default-allows-public"),
        pytest.param(AddressPolicy(allow_private=True), "127.0.0.1", None, id="lab-allows"),
        pytest.param(
            AddressPolicy(allow_private=True), "localhost", "not an IP address", id="lab-names"
        ),
    ],
)
def test_policy_applies_lab_mode(policy: AddressPolicy, address: str, expected: str | None) -> None:
    """Lab mode lets private addresses through but still demands an IP address."""
    assert policy.refusal(address) == expected


TEREDO = ipaddress.ip_network("2001::/32")


@given(st.ip_addresses())
def test_guard_is_never_more_lenient_than_the_stdlib(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """Whatever the standard library calls non-global, the guard refuses too (Teredo aside)."""
    if not address.is_global and not (address.version == 6 and address in TEREDO):
        assert not is_public(address)


@given(st.text(max_size=60))
def test_guard_never_raises_on_text(text: str) -> None:
    """Any text gets a verdict, never an exception."""
    assert isinstance(is_public(text), bool)
