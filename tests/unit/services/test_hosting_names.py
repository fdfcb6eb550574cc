"""Policy host names as the policy server hands them to hosting (SNI or Host)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.services.hosting_serving import hosted_domain_of


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("mta-sts.example.com", "example.com"),
        ("MTA-STS.Example.COM.", "example.com"),
        ("mta-sts.example.com:443", "example.com"),
        ("mta-sts.bücher.example", "xn--bcher-kva.example"),
        ("example.com", None),
        ("www.mta-sts.example.com", None),
        ("mta-sts.", None),
        ("mta-sts", None),
        ("127.0.0.1:443", None),
        ("[::1]:443", None),
        ("mta-sts..example.com", None),
        ("", None),
    ],
    ids=[
        "plain",
        "case-and-dot",
        "port",
        "idn",
        "no-prefix",
        "prefix-not-first",
        "bare-prefix",
        "bare-label",
        "ipv4",
        "ipv6",
        "empty-label",
        "empty",
    ],
)
def test_hosted_domain_of(host: str, domain: str | None) -> None:
    """Only ``mta-sts.<domain>`` names a hosted domain, in normal form."""
    assert hosted_domain_of(host) == domain


@given(st.text(max_size=300))
def test_hosted_domain_of_never_raises(host: str) -> None:
    """Whatever a client sends, the answer is None or a normalised name it really named."""
    result = hosted_domain_of(host)
    if result is not None:
        assert result == result.lower()
        assert result
        assert not result.endswith(".")
        assert hosted_domain_of(f"mta-sts.{result}") == result
