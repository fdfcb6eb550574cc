"""DKIM gathering: every selector in one concurrent level, each name once."""

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
    assert len(dns.queries) == len(COMMON_SELECTORS) + 1


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without lookups."""
    dns = FakeDns({})
    result = await check_dkim(dns, "bad..example")
    assert [f.code for f in result.findings] == ["dkim.domain.invalid"]
    assert dns.queries == []
