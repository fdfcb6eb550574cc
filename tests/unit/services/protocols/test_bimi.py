"""BIMI gathering: the domain's and the Organizational Domain's record names in one level."""

from tests.support.fake_dns import FakeDns

from mailshield.core.model import Status
from mailshield.services.protocols.bimi import check_bimi
from mailshield.services.protocols.dmarc import check_dmarc

ZONE = {
    "_dmarc.example.com TXT": ["v=DMARC1; p=reject; rua=mailto:d@example.com"],
    "default._bimi.example.com TXT": [
        "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem"
    ],
}


async def test_subdomain_uses_organizational_domain_record() -> None:
    """Both names are asked once; the Organizational Domain's record applies."""
    dns = FakeDns(ZONE)
    dmarc = await check_dmarc(dns, "news.example.com")
    dns.queries.clear()
    result = await check_bimi(dns, "news.example.com", dmarc)
    assert result.status is Status.PASS
    assert sorted(dns.queries) == [
        ("default._bimi.example.com", "TXT"),
        ("default._bimi.news.example.com", "TXT"),
    ]


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without lookups."""
    dns = FakeDns({})
    result = await check_bimi(dns, "a..b", await check_dmarc(dns, "a..b"))
    assert [f.code for f in result.findings] == ["bimi.domain.invalid"]
