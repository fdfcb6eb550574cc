"""What people type into the domain box: URLs, addresses, Unicode — and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.services.account_errors import InvalidInput
from mailshield.services.domain_input import parse_domain


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        pytest.param("example.com", "example.com", id="plain"),
        pytest.param("  EXAMPLE.com. ", "example.com", id="case-space-root-dot"),
        pytest.param("https://www.example.com/path?q=1#x", "www.example.com", id="url"),
        pytest.param("HTTP://example.com:8080", "example.com", id="url-with-port"),
        pytest.param("postmaster@example.com", "example.com", id="address"),
        pytest.param("mailto:ops@example.com", "example.com", id="mailto-uri"),
        pytest.param("bücher.example", "xn--bcher-kva.example", id="unicode"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="a-label"),
    ],
)
def test_accepted(typed: str, name: str) -> None:
    """URLs, addresses and Unicode names reduce to the domain as lower-case A-labels."""
    assert parse_domain(typed) == name


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("localhost", id="one-label"),
        pytest.param("192.0.2.1", id="ipv4-address"),
        pytest.param("[2001:db8::1]", id="ipv6-literal"),
        pytest.param("exa mple.com", id="space"),
        pytest.param("_dmarc.example.com", id="underscore-label"),
        pytest.param("-bad.example", id="leading-hyphen"),
        pytest.param("a" * 64 + ".example", id="label-too-long"),
        pytest.param("a..example", id="empty-label"),
    ],
)
def test_refused(typed: str) -> None:
    """Names that are not host names of at least two labels are refused for the domain field."""
    with pytest.raises(InvalidInput) as refused:
        parse_domain(typed)
    assert refused.value.field == "domain"


@given(st.text(max_size=300))
def test_parse_never_raises_anything_else(text: str) -> None:
    """For any input the parser returns a name or raises InvalidInput, nothing else."""
    try:
        name = parse_domain(text)
    except InvalidInput:
        return
    assert name == name.lower()
    assert "." in name
