"""The checker's lookups overlap: checks that need the MX hosts (MTA-STS) or another check's
result (TLS-RPT, BIMI) start their own lookups and fetches before those are in, so a domain
costs its critical path rather than the sum of its dependency chains."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tests.support.fake_dns import FakeDns
from tests.support.fake_https import FakeHttps, https_response, policy_url

from mailshield.core.certs import TrustRoots
from mailshield.core.model import Report, Status
from mailshield.core.observations import DnsAnswer
from mailshield.services.checker import Checker, CheckOptions, Probes

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
POLICY = "version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 604800\n"
ZONE = {
    "example.test MX": ["10 mx.example.test."],
    "mx.example.test A": ["192.0.2.25"],
    "_mta-sts.example.test TXT": ["v=STSv1; id=1"],
    "_smtp._tls.example.test TXT": ["v=TLSRPTv1; rua=mailto:tlsrpt@example.test"],
}


class HeldMx(FakeDns):
    """A fake resolver whose MX answers (or those for ``held``) wait for :attr:`release`."""

    def __init__(self, held: tuple[str, str] | None = None) -> None:
        super().__init__(ZONE)
        self.release = asyncio.Event()
        self.held = held

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        held = (name, rdtype) == self.held if self.held else rdtype.upper() == "MX"
        if held:
            self.queries.append((name, rdtype))
            await self.release.wait()
            return self.answer(name, rdtype)
        return await super().query(name, rdtype)


async def _check_holding_mx(dns: HeldMx, https: FakeHttps) -> Report:
    checker = Checker(
        probes=lambda: Probes(dns, https, None),
        roots=TrustRoots([]),
        options=CheckOptions(smtp=False),
        clock=lambda: NOW,
    )
    check = asyncio.ensure_future(checker.check("example.test"))
    for _ in range(100):  # let every started task run as far as it can without the MX answer
        await asyncio.sleep(0)
    dns.release.set()
    return await check


async def _before_release(dns: HeldMx, https: FakeHttps) -> tuple[list[tuple[str, str]], list[str]]:
    """The queries asked and the URLs fetched before the MX answer was released."""
    seen: tuple[list[tuple[str, str]], list[str]] = ([], [])

    async def watch() -> None:
        await dns.release.wait()
        seen[0].extend(dns.queries)
        seen[1].extend(https.fetched)

    watcher = asyncio.ensure_future(watch())
    await _check_holding_mx(dns, https)
    await watcher
    return seen


@pytest.mark.parametrize(
    "asked",
    [
        pytest.param(("_mta-sts.example.test", "TXT"), id="mta-sts-record"),
        pytest.param(("_smtp._tls.example.test", "TXT"), id="tls-rpt-record"),
        pytest.param(("tlsrpt-destination", "MX"), id="tls-rpt-destination"),
    ],
)
async def test_policy_lookups_start_before_the_mx_answer(asked: tuple[str, str]) -> None:
    """The MTA-STS and TLS-RPT lookups go out while the MX lookup is unanswered."""
    queries, _ = await _before_release(HeldMx(), FakeHttps())
    if asked[0] == "tlsrpt-destination":  # the rua mail domain's addresses (its MX is held)
        assert ("example.test", "A") in queries
    else:
        assert asked in queries


async def test_policy_fetch_starts_before_the_mx_answer() -> None:
    """The MTA-STS policy is fetched while the MX lookup is unanswered."""
    _, fetched = await _before_release(HeldMx(), FakeHttps())
    assert fetched == [policy_url("example.test")]


async def test_bimi_record_lookup_starts_before_the_dmarc_answer() -> None:
    """The domain's own BIMI record is asked while the DMARC lookup is unanswered."""
    dns = HeldMx(held=("_dmarc.example.test", "TXT"))
    queries, _ = await _before_release(dns, FakeHttps())
    assert ("default._bimi.example.test", "TXT") in queries


async def test_results_are_unchanged_by_the_overlap() -> None:
    """With the MX answer late, MTA-STS still matches the live MX and TLS-RPT sees MTA-STS."""
    dns = HeldMx()
    url = policy_url("example.test")
    report = await _check_holding_mx(dns, FakeHttps({url: https_response(url, POLICY)}))
    codes = {f.code for f in report.findings()}
    assert "mx.ok" in codes
    assert "mta_sts.mx.not_covered" not in codes
    assert "tls_rpt.record.missing" not in codes


async def test_null_mx_stops_the_policy_checks() -> None:
    """A null MX leaves MTA-STS and TLS-RPT not applicable, with their started work stopped."""
    dns = FakeDns({"example.test MX": ["0 ."]})
    checker = Checker(
        probes=lambda: Probes(dns, FakeHttps(), None),
        roots=TrustRoots([]),
        options=CheckOptions(smtp=False),
        clock=lambda: NOW,
    )
    report = await checker.check("example.test")
    for check in ("mta_sts", "tls_rpt"):
        result = report.result(check)
        assert result is not None
        assert result.status is Status.NOT_APPLICABLE
