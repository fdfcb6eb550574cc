"""DKIM gathering: each name once; common selectors only where keys can exist."""

from collections import Counter

from tests.support.fake_dns import FakeDns
from tests.unit.core.records.test_dkim import RSA2048

from mailshield.core.evaluate.dkim import COMMON_SELECTORS
from mailshield.core.model import Status
from mailshield.services.protocols.dkim import check_dkim


async def test_selectors_are_queried_once_each() -> None:
    """Supplied and common selectors are each looked up exactly once."""
    key = [f"v=DKIM1; p={RSA2048}"]
    dns = FakeDns(
        {"s2024._domainkey.example.com TXT": key, "google._domainkey.example.com TXT": key}
    )
    result = await check_dkim(dns, "example.com", ["s2024", "Google"])
    assert result.status is Status.PASS
    assert max(Counter(dns.queries).values()) == 1
    assert len(dns.queries) == len(COMMON_SELECTORS) + 2  # + s2024 and _domainkey


async def test_no_guesses_under_a_missing_domainkey() -> None:
    """Where ``_domainkey`` does not exist only it and the supplied selector are asked."""
    dns = FakeDns({"example.com TXT": ["v=spf1 -all"]})
    result = await check_dkim(dns, "example.com", ["s2024"])
    assert sorted(dns.queries) == [
        ("_domainkey.example.com", "TXT"),
        ("s2024._domainkey.example.com", "TXT"),
    ]
    assert [f.code for f in result.findings] == ["dkim.key.not_found"]


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without lookups."""
    dns = FakeDns({})
    result = await check_dkim(dns, "bad..example")
    assert [f.code for f in result.findings] == ["dkim.domain.invalid"]
    assert dns.queries == []
