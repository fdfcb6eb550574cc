"""SPF gathering: the tree is fetched level by level, concurrently, each name once."""

import asyncio
from collections import Counter
from collections.abc import Mapping

from tests.support.fake_dns import TIMEOUT, Entry, FakeDns

from mailshield.core.model import Status
from mailshield.core.observations import DnsAnswer
from mailshield.services.protocols.spf import check_spf

ZONE: dict[str, Entry] = {
    "example.com TXT": ["v=spf1 include:a.example.net include:b.example.net mx -all"],
    "example.com MX": ["10 mx.example.com."],
    "a.example.net TXT": ["v=spf1 include:shared.example.org -all"],
    "b.example.net TXT": ["v=spf1 include:shared.example.org a:host.example.org -all"],
    "shared.example.org TXT": ["v=spf1 ip4:192.0.2.0/24 -all"],
    "host.example.org A": ["192.0.2.7"],
}


class LevelRecorder(FakeDns):
    """Records which queries were in flight together, to observe concurrent levels."""

    def __init__(self, zone: Mapping[str, Entry]) -> None:
        super().__init__(zone)
        self.in_flight = 0
        self.peak = 0

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0)  # yield so that concurrently issued queries overlap
        try:
            return await super().query(name, rdtype)
        finally:
            self.in_flight -= 1


async def test_each_name_is_queried_once() -> None:
    """A domain reached through two includes is looked up once, not once per path."""
    dns = FakeDns(ZONE)
    result = await check_spf(dns, "example.com")
    assert result.status is Status.PASS
    assert max(Counter(dns.queries).values()) == 1
    assert ("shared.example.org", "TXT") in dns.queries


async def test_levels_run_concurrently() -> None:
    """The lookups of one tree level are in flight at the same time."""
    dns = LevelRecorder(ZONE)
    await check_spf(dns, "example.com")
    assert dns.peak >= 3  # a.example.net, b.example.net TXT and the mx term's MX together


async def test_timeout_is_could_not_test() -> None:
    """A timeout while gathering becomes error (could not test), never fail."""
    dns = FakeDns({**ZONE, "b.example.net TXT": TIMEOUT})
    result = await check_spf(dns, "example.com")
    assert result.status is Status.ERROR


async def test_unicode_domain_is_queried_as_a_label() -> None:
    """A U-label domain is converted to its A-label before any lookup (RFC 8616 §4)."""
    dns = FakeDns({"xn--bcher-kva.example TXT": ["v=spf1 -all"]})
    result = await check_spf(dns, "bücher.example")
    assert result.status is Status.PASS
    assert dns.queries[0][0] == "xn--bcher-kva.example"


async def test_invalid_domain_is_not_looked_up() -> None:
    """A name that is not a domain is reported as could-not-test without any lookup."""
    dns = FakeDns({})
    result = await check_spf(dns, "exa mple..com")
    assert [f.code for f in result.findings] == ["spf.domain.invalid"]
    assert result.status is Status.ERROR
    assert dns.queries == []


async def test_loop_ends_and_is_reported() -> None:
    """An include loop stops the walk after one round and is reported as fail."""
    dns = FakeDns(
        {
            "example.com TXT": ["v=spf1 include:a.example.net -all"],
            "a.example.net TXT": ["v=spf1 include:example.com -all"],
        }
    )
    result = await check_spf(dns, "example.com")
    assert "spf.include.loop" in {f.code for f in result.findings}
    assert max(Counter(dns.queries).values()) == 1


async def test_nested_includes_and_void_lookups_through_the_service() -> None:
    """Counts over nested includes and void lookups come out the same through real gathering."""
    dns = FakeDns(
        {
            "example.com TXT": ["v=spf1 include:a.example.net a:gone.example.com -all"],
            "a.example.net TXT": ["v=spf1 include:b.example.net mx:nomx.example.net -all"],
            "b.example.net TXT": ["v=spf1 exists:nothing.example.net -all"],
            "nomx.example.net A": ["192.0.2.1"],
        }
    )
    result = await check_spf(dns, "example.com")
    assert result.evidence["lookups"] == 5
    assert result.evidence["void_lookups"] == [
        "a:gone.example.com",
        "mx:nomx.example.net",
        "exists:nothing.example.net",
    ]
    assert "spf.void_lookups.too_many" in {f.code for f in result.findings}
