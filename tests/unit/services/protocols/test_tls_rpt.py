"""The TLS-RPT service: one lookup at _smtp._tls.<domain>, then the pure evaluation."""

from tests.support.fake_dns import FakeDns

from mailshield.core.model import Status
from mailshield.services.protocols.tls_rpt import check_tls_rpt


async def test_record_found() -> None:
    """A usable record passes; exactly one lookup is made, at the A-label name."""
    dns = FakeDns({"_smtp._tls.xn--bcher-kva.example TXT": ["v=TLSRPTv1; rua=mailto:r@x.example"]})
    result = await check_tls_rpt(dns, "Bücher.example.", mta_sts_present=True)
    assert result.check == "tls_rpt"
    assert result.findings == ()
    assert dns.queries == [("_smtp._tls.xn--bcher-kva.example", "TXT")]


async def test_missing_record_warns_with_mta_sts() -> None:
    """Without a record, a domain using MTA-STS is warned and given the record to publish."""
    result = await check_tls_rpt(FakeDns({}), "example.com", mta_sts_present=True)
    assert result.status is Status.WARN
    assert result.findings[0].fix == (
        '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"'
    )


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without any lookup."""
    dns = FakeDns({})
    result = await check_tls_rpt(dns, "-bad-.example", mta_sts_present=False)
    assert [f.code for f in result.findings] == ["check.invalid_domain"]
    assert dns.queries == []
