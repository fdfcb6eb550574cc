"""DMARC gathering: the whole tree walk in one concurrent level, then report authorisations."""

from collections import Counter

from tests.support.fake_dns import TIMEOUT, Entry, FakeDns

from mailshield.core.model import Status
from mailshield.services.protocols.dmarc import check_dmarc

ZONE: dict[str, Entry] = {
    "_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:r@reports.example.net"],
    "example.com._report._dmarc.reports.example.net TXT": ["v=DMARC1"],
}


async def test_walk_then_authorisation_each_name_once() -> None:
    """Every walk name is asked first, the authorisation name after, each exactly once."""
    dns = FakeDns(ZONE)
    result = await check_dmarc(dns, "mail.example.com")
    assert result.status is Status.PASS
    assert max(Counter(dns.queries).values()) == 1
    walk = {
        ("_dmarc.mail.example.com", "TXT"),
        ("_dmarc.example.com", "TXT"),
        ("_dmarc.com", "TXT"),
    }
    assert set(dns.queries[:3]) == walk
    assert dns.queries[3:] == [("example.com._report._dmarc.reports.example.net", "TXT")]


async def test_timeout_is_could_not_test() -> None:
    """A timeout on the domain's own _dmarc name is error, never fail."""
    dns = FakeDns({"_dmarc.example.com TXT": TIMEOUT})
    assert (await check_dmarc(dns, "example.com")).status is Status.ERROR


async def test_invalid_domain_is_not_looked_up() -> None:
    """A name that is not a domain is reported without any lookup."""
    dns = FakeDns({})
    result = await check_dmarc(dns, "-bad-.example")
    assert [f.code for f in result.findings] == ["dmarc.domain.invalid"]
    assert dns.queries == []
