"""The checker service with fake probes: how the transport checks read an MX lookup that
failed DNSSEC validation (RFC 4035 §5.5)."""

import datetime as dt

import pytest
from tests.support.fake_dns import SERVFAIL, Entry, FakeDns
from tests.support.fake_https import FakeHttps

from mailshield.core.certs import TrustRoots
from mailshield.core.model import Report, Status
from mailshield.core.observations import Dnssec
from mailshield.services.checker import Checker, CheckOptions, Probes

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def _check(zone: dict[str, Entry], dnssec: dict[str, Dnssec]) -> Report:
    dns = FakeDns(zone, dnssec=dnssec)
    checker = Checker(
        probes=lambda: Probes(dns, FakeHttps(), None),
        roots=TrustRoots([]),
        options=CheckOptions(smtp=False),
        clock=lambda: NOW,
    )
    return await checker.check("example.test")


async def test_bogus_mx_rrset_is_a_dnssec_failure() -> None:
    """An MX lookup that fails validation gives dnssec.bogus (fail), not "not applicable"."""
    report = await _check({"example.test *": SERVFAIL}, {"example.test": Dnssec.BOGUS})
    dane = report.result("dane")
    assert dane is not None
    assert [(f.code, f.status, f.subject) for f in dane.findings] == [
        ("dnssec.bogus", Status.FAIL, "example.test")
    ]


@pytest.mark.parametrize(
    ("zone", "dnssec"),
    [
        pytest.param({"example.test *": SERVFAIL}, {}, id="plain-servfail"),
        pytest.param({"example.test MX": ["0 ."]}, {"example.test": Dnssec.SECURE}, id="null-mx"),
    ],
)
async def test_unknown_or_null_mx_leaves_dane_not_applicable(
    zone: dict[str, Entry], dnssec: dict[str, Dnssec]
) -> None:
    """Without a validation failure, no MX hosts means DANE does not apply."""
    report = await _check(zone, dnssec)
    dane = report.result("dane")
    assert dane is not None
    assert dane.status is Status.NOT_APPLICABLE
