"""From a host name to guarded addresses."""

import pytest

from mailshield.core.observations import ConnectOutcome, DnsAnswer, DnsOutcome
from mailshield.probes.addresses import candidates
from mailshield.probes.net_policy import AddressPolicy


class Lookup:
    """Answers from a table of (name, type) -> answer; anything else is NXDOMAIN."""

    def __init__(self, answers: dict[str, DnsAnswer]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        self.asked.append(rdtype)
        return self.answers.get(rdtype, DnsAnswer(name, rdtype, DnsOutcome.NXDOMAIN))


def ok(rdtype: str, *records: str) -> DnsAnswer:
    """A positive answer."""
    return DnsAnswer("h.test", rdtype, DnsOutcome.OK, records)


def failed(rdtype: str, outcome: DnsOutcome) -> DnsAnswer:
    """A failed lookup."""
    return DnsAnswer("h.test", rdtype, outcome, detail="why")


@pytest.mark.parametrize(
    ("answers", "policy", "addresses", "failure"),
    [
        pytest.param(
            {"A": ok("A", "9.9.9.9"), "AAAA": ok("AAAA", "2620:fe::fe")},
            AddressPolicy(),
            ("9.9.9.9", "2620:fe::fe"),
            None,
            id="ipv4-first",
        ),
        pytest.param(
            {"A": ok("A", "127.0.0.1", "9.9.9.9")},
            AddressPolicy(),
            ("9.9.9.9",),
            None,
            id="private-dropped-public-kept",
        ),
        pytest.param(
            {"A": ok("A", "10.0.0.1"), "AAAA": ok("AAAA", "::1")},
            AddressPolicy(),
            (),
            ConnectOutcome.BLOCKED,
            id="all-private-blocked",
        ),
        pytest.param(
            {"A": ok("A", "10.0.0.1")},
            AddressPolicy(allow_private=True),
            ("10.0.0.1",),
            None,
            id="lab-mode",
        ),
        pytest.param(
            {"A": failed("A", DnsOutcome.TIMEOUT), "AAAA": ok("AAAA", "2620:fe::fe")},
            AddressPolicy(),
            ("2620:fe::fe",),
            None,
            id="one-family-failing-is-fine",
        ),
        pytest.param(
            {"A": failed("A", DnsOutcome.SERVFAIL)},
            AddressPolicy(),
            (),
            ConnectOutcome.DNS_FAILED,
            id="failure-without-addresses",
        ),
        pytest.param({}, AddressPolicy(), (), ConnectOutcome.NO_ADDRESS, id="no-address"),
    ],
)
async def test_candidates(
    answers: dict[str, DnsAnswer],
    policy: AddressPolicy,
    addresses: tuple[str, ...],
    failure: ConnectOutcome | None,
) -> None:
    """Addresses come back IPv4 first, guarded; without any, the reason is an outcome."""
    found = await candidates(Lookup(answers), "h.test", policy)
    assert found.addresses == addresses
    assert found.failure is failure
    assert bool(found.detail) == (failure is not None)


async def test_ip_literal_is_not_resolved() -> None:
    """An address given as the host is guarded as is, with no DNS query."""
    lookup = Lookup({})
    found = await candidates(lookup, "[::1]", AddressPolicy())
    assert found.failure is ConnectOutcome.BLOCKED
    assert found.refused == (("::1", "loopback"),)
    assert lookup.asked == []
