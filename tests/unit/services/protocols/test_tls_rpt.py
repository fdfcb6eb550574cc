"""The TLS-RPT service: the _smtp._tls record, then the lookups its destinations need."""

from tests.support.fake_dns import TIMEOUT, FakeDns

from mailshield.core.model import Status
from mailshield.services.protocols.tls_rpt import check_tls_rpt

RECORD = "_smtp._tls.xn--bcher-kva.example TXT"


async def test_record_and_destination_lookups() -> None:
    """The record is looked up at the A-label name, then the mail domain's MX and addresses."""
    dns = FakeDns(
        {
            RECORD: ["v=TLSRPTv1; rua=mailto:r@reports.example"],
            "reports.example MX": ["10 mx.reports.example."],
        }
    )
    result = await check_tls_rpt(dns, "Bücher.example.", mta_sts_present=True)
    assert result.check == "tls_rpt"
    assert result.findings == ()
    assert dns.queries[0] == ("_smtp._tls.xn--bcher-kva.example", "TXT")
    assert sorted(dns.queries[1:]) == [
        ("reports.example", "A"),
        ("reports.example", "AAAA"),
        ("reports.example", "MX"),
    ]


async def test_unreachable_only_destination_fails() -> None:
    """A mail domain that does not exist cannot take reports; as the only one, that fails."""
    dns = FakeDns({RECORD: ["v=TLSRPTv1; rua=mailto:r@gone.example"]})
    result = await check_tls_rpt(dns, "bücher.example", mta_sts_present=True)
    assert [(f.code, f.status) for f in result.findings] == [
        ("tls_rpt.rua.unreachable", Status.FAIL)
    ]
    assert result.findings[0].fix == (
        '_smtp._tls.xn--bcher-kva.example. IN TXT "v=TLSRPTv1; '
        'rua=mailto:tlsrpt@xn--bcher-kva.example"'
    )


async def test_destination_lookup_timeout_is_not_judged() -> None:
    """When a destination's lookups time out, nothing is claimed about it."""
    dns = FakeDns({RECORD: ["v=TLSRPTv1; rua=mailto:r@slow.example"], "slow.example *": TIMEOUT})
    result = await check_tls_rpt(dns, "bücher.example", mta_sts_present=True)
    assert result.findings == ()


async def test_missing_record_warns_with_mta_sts() -> None:
    """Without a record, a domain using MTA-STS is warned and given the record to publish."""
    dns = FakeDns({})
    result = await check_tls_rpt(dns, "example.com", mta_sts_present=True)
    assert result.status is Status.WARN
    assert result.findings[0].fix == (
        '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"'
    )
    assert dns.queries == [("_smtp._tls.example.com", "TXT")]


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without any lookup."""
    dns = FakeDns({})
    result = await check_tls_rpt(dns, "-bad-.example", mta_sts_present=False)
    assert [f.code for f in result.findings] == ["check.invalid_domain"]
    assert dns.queries == []
