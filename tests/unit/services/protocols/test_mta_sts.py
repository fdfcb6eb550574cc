"""The MTA-STS service: concurrent gathering through the ports, then the pure evaluation."""

import asyncio

from tests.support.fake_dns import FakeDns
from tests.support.fake_https import FakeHttps, https_response, policy_url

from mailshield.core.certs import CertProblem, CertVerdict
from mailshield.core.model import Status
from mailshield.core.observations import DnsAnswer, HttpsFetch, TlsSession
from mailshield.services.protocols.mta_sts import check_mta_sts

POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 604800\r\n"


class Judge:
    """A certificate judge that records what it was asked and answers a fixed verdict."""

    def __init__(self, *problems: CertProblem) -> None:
        self.problems = problems
        self.calls: list[tuple[TlsSession, str]] = []

    def __call__(self, tls: TlsSession, host: str) -> CertVerdict:
        self.calls.append((tls, host))
        return CertVerdict(host, self.problems, days_left=60)


def setup(domain: str = "example.com") -> tuple[FakeDns, FakeHttps]:
    dns = FakeDns({f"_mta-sts.{domain} TXT": ["v=STSv1; id=1"]})
    https = FakeHttps({policy_url(domain): https_response(policy_url(domain), POLICY)})
    return dns, https


async def test_valid_setup_passes() -> None:
    """A valid record, policy, certificate and covered MX pass with only the summary finding."""
    dns, https = setup()
    judge = Judge()
    result = await check_mta_sts(dns, https, "example.com", ["mx1.example.com"], judge)
    assert result.check == "mta_sts"
    assert [f.code for f in result.findings] == ["mta_sts.ok"]
    assert dns.queries == [("_mta-sts.example.com", "TXT")]
    assert https.fetched == [policy_url("example.com")]


async def test_certificate_is_judged_for_the_policy_host() -> None:
    """The presented chain is judged against mta-sts.<domain> (RFC 8461 §3.3)."""
    dns, https = setup()
    judge = Judge(CertProblem.NAME_MISMATCH)
    result = await check_mta_sts(dns, https, "Example.COM.", ["mx1.example.com"], judge)
    assert [host for _, host in judge.calls] == ["mta-sts.example.com"]
    assert [f.code for f in result.findings] == ["mta_sts.policy.tls_invalid"]


async def test_no_tls_session_means_no_judgement() -> None:
    """When no handshake happened there is no chain to judge."""
    judge = Judge()
    result = await check_mta_sts(FakeDns({}), FakeHttps({}), "example.com", [], judge)
    assert judge.calls == []
    assert result.status is Status.NOT_APPLICABLE  # null MX and nothing published


async def test_idn_domain_is_looked_up_in_a_label_form() -> None:
    """A U-label domain is queried and fetched as its A-label (§3.1, §3.2)."""
    dns, https = setup("xn--bcher-kva.example")
    await check_mta_sts(dns, https, "bücher.example", ["mx1.example.com"], Judge())
    assert dns.queries == [("_mta-sts.xn--bcher-kva.example", "TXT")]
    assert https.fetched == ["https://mta-sts.xn--bcher-kva.example/.well-known/mta-sts.txt"]


async def test_mx_hosts_are_normalised() -> None:
    """MX names in presentation form (case, trailing dot) match the policy."""
    dns, https = setup()
    result = await check_mta_sts(dns, https, "example.com", ["MX1.Example.com."], Judge())
    assert [f.code for f in result.findings] == ["mta_sts.ok"]
    assert result.evidence["mx_hosts"] == ["mx1.example.com"]


async def test_invalid_domain() -> None:
    """A name that is not a domain is reported without any lookup."""
    dns, https = FakeDns({}), FakeHttps({})
    result = await check_mta_sts(dns, https, "exa mple..com", None, Judge())
    assert [f.code for f in result.findings] == ["check.invalid_domain"]
    assert dns.queries == []
    assert https.fetched == []


async def test_lookup_and_fetch_run_concurrently() -> None:
    """The TXT lookup and the policy fetch are in flight at the same time."""
    log: list[str] = []
    dns, https = setup()

    class SlowDns:
        async def query(self, name: str, rdtype: str) -> DnsAnswer:
            log.append("dns start")
            await asyncio.sleep(0)
            log.append("dns end")
            return await dns.query(name, rdtype)

    class SlowHttps:
        async def fetch(self, url: str) -> HttpsFetch:
            log.append("fetch start")
            await asyncio.sleep(0)
            log.append("fetch end")
            return await https.fetch(url)

    await check_mta_sts(SlowDns(), SlowHttps(), "example.com", ["mx1.example.com"], Judge())
    assert log[:2] == ["dns start", "fetch start"]
