"""The in-memory DNS fake answers like a resolver: NXDOMAIN vs NODATA, CNAMEs, wildcards, faults."""

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, TIMEOUT, FakeDns

from mailshield.core.observations import DnsOutcome, MxRecord, TlsaRecord

ZONE = FakeDns(
    {
        "example.com TXT": ["v=spf1 -all", ("part one ", "part two")],
        "example.com MX": ["10 MX1.example.com.", "20 mx2.example.com"],
        "_25._tcp.mx1.example.com TLSA": ["3 1 1 ab cd"],
        "www.example.com CNAME": ["example.com."],
        "loop1.example.com CNAME": ["loop2.example.com"],
        "loop2.example.com CNAME": ["loop1.example.com"],
        "slow.example.com TXT": TIMEOUT,
        "broken.example.com *": SERVFAIL,
        "gone.example.com TXT": NXDOMAIN,
        "empty.example.com TXT": [],
        "*.wild.example.com TXT": ["v=DMARC1"],
    }
)


@pytest.mark.parametrize(
    ("name", "rdtype", "outcome"),
    [
        pytest.param("example.com", "TXT", DnsOutcome.OK, id="present"),
        pytest.param("EXAMPLE.com.", "TXT", DnsOutcome.OK, id="case-and-dot-insensitive"),
        pytest.param("example.com", "AAAA", DnsOutcome.NODATA, id="other-type-is-nodata"),
        pytest.param("empty.example.com", "TXT", DnsOutcome.NODATA, id="empty-list-is-nodata"),
        pytest.param("nowhere.example.com", "TXT", DnsOutcome.NXDOMAIN, id="unknown-name"),
        pytest.param("gone.example.com", "TXT", DnsOutcome.NXDOMAIN, id="explicit-nxdomain"),
        pytest.param("slow.example.com", "TXT", DnsOutcome.TIMEOUT, id="timeout"),
        pytest.param("broken.example.com", "MX", DnsOutcome.SERVFAIL, id="any-type-fault"),
        pytest.param("a.b.wild.example.com", "TXT", DnsOutcome.OK, id="wildcard"),
        pytest.param("loop1.example.com", "TXT", DnsOutcome.ERROR, id="cname-loop"),
    ],
)
def test_outcomes(name: str, rdtype: str, outcome: DnsOutcome) -> None:
    """Each kind of entry produces the matching lookup outcome."""
    assert ZONE.answer(name, rdtype).outcome is outcome


def test_records_are_typed() -> None:
    """TXT strings of one RR are joined; MX and TLSA records are parsed from presentation form."""
    assert ZONE.answer("example.com", "TXT").txt() == (b"v=spf1 -all", b"part one part two")
    assert ZONE.answer("example.com", "MX").mx() == (
        MxRecord(10, "mx1.example.com"),
        MxRecord(20, "mx2.example.com"),
    )
    assert ZONE.answer("_25._tcp.mx1.example.com", "TLSA").tlsa() == (
        TlsaRecord(3, 1, 1, b"\xab\xcd"),
    )


def test_cname_is_followed_and_recorded() -> None:
    """A lookup through a CNAME answers with the target's data and records the chain."""
    answer = ZONE.answer("www.example.com", "TXT")
    assert answer.txt()[0] == b"v=spf1 -all"
    assert answer.cname_chain == ("example.com",)


async def test_queries_are_logged() -> None:
    """Every query is logged in order so tests can count lookups."""
    dns = FakeDns({"example.com TXT": ["x"]})
    await dns.query("example.com", "TXT")
    await dns.query("example.com", "MX")
    assert dns.queries == [("example.com", "TXT"), ("example.com", "MX")]


def test_single_string_entry_is_rejected() -> None:
    """A bare string instead of a list is a test-writing mistake and is refused."""
    with pytest.raises(TypeError):
        FakeDns({"example.com TXT": "v=spf1 -all"})  # type: ignore[dict-item]
