"""MX evaluation: null, implicit, CNAME'd and address-less MX hosts, and lookup failures."""

import pytest

from mailshield.core.evaluate.mx import MxHostLookup, MxLookup, evaluate_mx, mx_set
from mailshield.core.model import Status
from mailshield.core.observations import DnsAnswer, DnsOutcome, MxRecord


def _addr(name: str, *addresses: str, cname: tuple[str, ...] = ()) -> tuple[DnsAnswer, DnsAnswer]:
    v4 = tuple(a for a in addresses if ":" not in a)
    v6 = tuple(a for a in addresses if ":" in a)
    a = DnsAnswer(name, "A", DnsOutcome.OK if v4 else DnsOutcome.NODATA, v4, cname)
    aaaa = DnsAnswer(name, "AAAA", DnsOutcome.OK if v6 else DnsOutcome.NODATA, v6, cname)
    return a, aaaa


def _host(name: str, pref: int, *addresses: str, cname: tuple[str, ...] = ()) -> MxHostLookup:
    return MxHostLookup(name, pref, *_addr(name, *addresses, cname=cname))


def _mx(*records: tuple[int, str]) -> DnsAnswer:
    return DnsAnswer("example.com", "MX", DnsOutcome.OK, tuple(MxRecord(p, h) for p, h in records))


def codes(lookup: MxLookup) -> list[str]:
    return [f.code for f in evaluate_mx(lookup).findings]


def test_healthy_mx_passes() -> None:
    """Two MX hosts with public addresses give one pass finding listing them by preference."""
    lookup = MxLookup(
        "example.com",
        _mx((20, "mx2.example.com"), (10, "mx1.example.com")),
        (_host("mx2.example.com", 20, "192.0.2.2"), _host("mx1.example.com", 10, "8.8.8.8")),
    )
    result = evaluate_mx(lookup)
    assert [f.code for f in result.findings] == ["mx.ok", "mx.private_address"]
    assert result.findings[0].params["hosts"] == "mx1.example.com, mx2.example.com"
    assert mx_set(lookup).names == ("mx1.example.com", "mx2.example.com")


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        pytest.param(MxLookup("example.com", _mx((0, ""))), ["mx.null"], id="null-mx"),
        pytest.param(
            MxLookup("example.com", _mx((0, ""), (10, "mx.example.com"))),
            ["mx.null_mixed"],
            id="null-mixed",
        ),
        pytest.param(
            MxLookup(
                "example.com",
                DnsAnswer("example.com", "MX", DnsOutcome.NODATA),
                (_host("example.com", 0, "8.8.8.8"),),
            ),
            ["mx.implicit"],
            id="implicit",
        ),
        pytest.param(
            MxLookup(
                "example.com",
                DnsAnswer("example.com", "MX", DnsOutcome.NODATA),
                (_host("example.com", 0),),
            ),
            ["mx.none"],
            id="no-mx-no-address",
        ),
        pytest.param(
            MxLookup("example.com", DnsAnswer("example.com", "MX", DnsOutcome.NXDOMAIN)),
            ["mx.domain_missing"],
            id="nxdomain",
        ),
        pytest.param(
            MxLookup("example.com", DnsAnswer("example.com", "MX", DnsOutcome.TIMEOUT)),
            ["mx.lookup_failed"],
            id="timeout-is-could-not-test",
        ),
        pytest.param(
            MxLookup(
                "example.com",
                _mx((10, "mx.example.com")),
                (_host("mx.example.com", 10, "8.8.8.8", cname=("real.example.net",)),),
            ),
            ["mx.ok", "mx.cname"],
            id="cname",
        ),
        pytest.param(
            MxLookup("example.com", _mx((10, "mx.example.com")), (_host("mx.example.com", 10),)),
            ["mx.no_address"],
            id="no-address",
        ),
    ],
)
def test_mx_findings(lookup: MxLookup, expected: list[str]) -> None:
    """Each MX shape produces its finding code."""
    assert codes(lookup) == expected


def test_lookup_failure_is_error_not_fail() -> None:
    """A timed-out MX lookup is "could not test", and leaves the MX set unknown."""
    lookup = MxLookup("example.com", DnsAnswer("example.com", "MX", DnsOutcome.SERVFAIL))
    assert evaluate_mx(lookup).status is Status.ERROR
    assert mx_set(lookup).known is False


def test_private_addresses_allowed_in_lab_mode() -> None:
    """With private_ok the lab's loopback addresses are not flagged."""
    lookup = MxLookup(
        "example.com", _mx((10, "mx.example.com")), (_host("mx.example.com", 10, "127.0.0.25"),)
    )
    assert codes(lookup) == ["mx.ok", "mx.private_address"]
    assert [f.code for f in evaluate_mx(lookup, private_ok=True).findings] == ["mx.ok"]
