"""Which URLs the HTTPS probe fetches, and what it asks for."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.probes.https import _parse_url, _Target


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "https://mta-sts.example.com/.well-known/mta-sts.txt",
            _Target("mta-sts.example.com", 443, "/.well-known/mta-sts.txt"),
            id="policy-url",
        ),
        pytest.param(
            "https://MTA-STS.Example.COM", _Target("mta-sts.example.com", 443, "/"), id="bare"
        ),
        pytest.param(
            "https://h.test:8443/p?q=1", _Target("h.test", 8443, "/p?q=1"), id="port-and-query"
        ),
        pytest.param("https://[2001:db8::1]/", _Target("2001:db8::1", 443, "/"), id="ipv6"),
    ],
)
def test_parse_url(url: str, expected: _Target) -> None:
    """The host is lower-cased, the port defaults to 443, the target keeps the query."""
    assert _parse_url(url) == expected


@pytest.mark.parametrize(
    ("target", "host_header"),
    [
        pytest.param(_Target("h.test", 443, "/"), "h.test", id="default-port-omitted"),
        pytest.param(_Target("h.test", 8443, "/"), "h.test:8443", id="other-port"),
        pytest.param(_Target("2001:db8::1", 443, "/"), "[2001:db8::1]", id="ipv6-bracketed"),
    ],
)
def test_host_header(target: _Target, host_header: str) -> None:
    """The Host header names the port only when it is not 443 (RFC 9110 §7.2)."""
    assert target.host_header == host_header


@given(st.text(max_size=80))
def test_parse_url_never_raises(text: str) -> None:
    """Any text gives a target or a reason, never an exception."""
    assert isinstance(_parse_url(text), _Target | str)
