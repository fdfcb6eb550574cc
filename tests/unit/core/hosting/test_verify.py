"""The verifier's record rules: expected against seen, per record (RFC 8461 §3.1, §8.2)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from tests.support.fake_dns import SERVFAIL, TIMEOUT, FakeDns

from mailshield.core.hosting.model import RecordStatus, Setup
from mailshield.core.hosting.verify import Expectation, Observation, Verification, verify_records

D = "shop.test"
HOST = "mta-sts.mailshield.test"
TARGET = "shop.test.sts.mailshield.test"

CNAME_SETUP = Expectation(
    D, Setup.CNAME, "NEW1", frozenset({"OLD1"}), HOST, tlsrpt_rua="mailto:r@ms.test"
)
ADDRESS_SETUP = Expectation(D, Setup.CNAME, "NEW1", frozenset(), "", ("127.0.0.80", "::1"))
DELEGATED = Expectation(D, Setup.DELEGATED, "NEW1", frozenset({"OLD1"}), HOST, target=TARGET)

GOOD = {
    f"mta-sts.{D} CNAME": [HOST],
    f"{HOST} A": ["127.0.0.80"],
    f"_mta-sts.{D} TXT": ["v=STSv1; id=NEW1"],
    f"_smtp._tls.{D} TXT": ["v=TLSRPTv1; rua=mailto:r@ms.test"],
}
GOOD_DELEGATED = {
    f"mta-sts.{D} CNAME": [HOST],
    f"{HOST} A": ["127.0.0.80"],
    f"_mta-sts.{D} CNAME": [TARGET],
    f"{TARGET} TXT": ["v=STSv1; id=NEW1"],
}


def verify(expect: Expectation, zone: Mapping[str, object]) -> Verification:
    """Gather the observation for ``expect`` from a fake zone, then verify it."""
    dns = FakeDns(zone)  # type: ignore[arg-type]
    return verify_records(
        expect,
        Observation(
            host_a=dns.answer(f"mta-sts.{D}", "A"),
            host_aaaa=dns.answer(f"mta-sts.{D}", "AAAA"),
            sts=dns.answer(f"_mta-sts.{D}", "TXT"),
            target=dns.answer(TARGET, "TXT") if expect.target else None,
            tlsrpt=dns.answer(f"_smtp._tls.{D}", "TXT") if expect.tlsrpt_rua else None,
        ),
    )


def statuses(result: Verification) -> dict[str, RecordStatus]:
    return {c.label: c.status for c in result.checks}


def test_everything_right() -> None:
    """Published as asked: every record is ok, the host points here, the id is live."""
    result = verify(CNAME_SETUP, GOOD)
    assert set(statuses(result).values()) == {RecordStatus.OK}
    assert result.points_here is True
    assert result.live_id == "NEW1"


@pytest.mark.parametrize(
    ("changes", "record", "status", "seen"),
    [
        (
            {f"mta-sts.{D} CNAME": [], f"mta-sts.{D} A": []},
            f"mta-sts.{D} CNAME",
            RecordStatus.MISSING,
            "no A record",
        ),
        (
            {f"mta-sts.{D} CNAME": ["web.shop.test"], "web.shop.test A": ["192.0.2.1"]},
            f"mta-sts.{D} CNAME",
            RecordStatus.WRONG,
            "CNAME to web.shop.test",
        ),
        (
            {f"mta-sts.{D} CNAME": [], f"mta-sts.{D} A": ["192.0.2.1"]},
            f"mta-sts.{D} CNAME",
            RecordStatus.WRONG,
            "addresses 192.0.2.1",
        ),
        (
            {f"mta-sts.{D} CNAME": SERVFAIL},
            f"mta-sts.{D} CNAME",
            RecordStatus.UNKNOWN,
            "lookup failed",
        ),
        (
            {f"_mta-sts.{D} TXT": ["v=STSv1; id=OLD1"]},
            f"_mta-sts.{D} TXT",
            RecordStatus.STALE,
            "id=OLD1",
        ),
        (
            {f"_mta-sts.{D} TXT": ["v=STSv1; id=ELSE"]},
            f"_mta-sts.{D} TXT",
            RecordStatus.WRONG,
            "id=ELSE",
        ),
        (
            {f"_mta-sts.{D} TXT": ["v=STSv1; id=NEW1", "v=STSv1; id=OLD1"]},
            f"_mta-sts.{D} TXT",
            RecordStatus.WRONG,
            "2 v=STSv1 records",
        ),
        (
            {f"_mta-sts.{D} TXT": ["v=STSv1; id=2026-05-01"]},
            f"_mta-sts.{D} TXT",
            RecordStatus.WRONG,
            "letters and digits",
        ),
        (
            {f"_mta-sts.{D} TXT": ["v=spf1 -all"]},
            f"_mta-sts.{D} TXT",
            RecordStatus.MISSING,
            "other TXT records",
        ),
        ({f"_mta-sts.{D} TXT": TIMEOUT}, f"_mta-sts.{D} TXT", RecordStatus.UNKNOWN, "timeout"),
        (
            {f"_smtp._tls.{D} TXT": ["v=TLSRPTv1; rua=mailto:me@shop.test"]},
            f"_smtp._tls.{D} TXT",
            RecordStatus.WRONG,
            "mailto:me@shop.test",
        ),
        (
            {f"_smtp._tls.{D} TXT": ["v=TLSRPTv1; rua=mailto:me@shop.test,mailto:r@ms.test"]},
            f"_smtp._tls.{D} TXT",
            RecordStatus.OK,
            "mailto:r@ms.test",
        ),
    ],
    ids=[
        "host-missing",
        "host-cname-elsewhere",
        "host-address-not-ours",
        "host-lookup-failed",
        "txt-previous-id-is-stale",
        "txt-foreign-id",
        "txt-two-records",
        "txt-invalid-id",
        "txt-unrelated-only",
        "txt-timeout",
        "tlsrpt-without-our-address",
        "tlsrpt-with-ours-among-others",
    ],
)
def test_cname_setup(
    changes: dict[str, object], record: str, status: RecordStatus, seen: str
) -> None:
    """One record changed from the good zone gets its own verdict and says what it saw."""
    result = verify(CNAME_SETUP, {**GOOD, **changes})
    check = next(c for c in result.checks if c.label == record)
    assert check.status is status
    assert seen in check.seen


@pytest.mark.parametrize(
    ("host_answer", "points"),
    [(["127.0.0.80"], True), (["127.0.0.80", "127.0.0.81"], False)],
    ids=["only-our-addresses", "one-foreign-address"],
)
def test_address_setup(host_answer: list[str], points: bool) -> None:
    """Without a policy host name, the name points here only when every address is ours."""
    zone = {
        **GOOD,
        f"mta-sts.{D} CNAME": [],
        f"mta-sts.{D} A": host_answer,
        f"mta-sts.{D} AAAA": ["0:0::1"],
    }
    assert verify(ADDRESS_SETUP, zone).points_here is points


def test_unknown_host_lookup_leaves_points_here_open() -> None:
    """A failed lookup of mta-sts.<d> tells nothing about where it points."""
    result = verify(CNAME_SETUP, {**GOOD, f"mta-sts.{D} CNAME": SERVFAIL})
    assert result.points_here is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {"CNAME": RecordStatus.OK, "TXT": RecordStatus.OK}),
        (
            {f"{TARGET} TXT": ["v=STSv1; id=OLD1"]},
            {"CNAME": RecordStatus.OK, "TXT": RecordStatus.STALE},
        ),
        ({f"{TARGET} TXT": []}, {"CNAME": RecordStatus.OK, "TXT": RecordStatus.MISSING}),
        (
            {f"_mta-sts.{D} CNAME": ["elsewhere.test"], "elsewhere.test TXT": ["v=STSv1; id=X"]},
            {"CNAME": RecordStatus.WRONG},
        ),
        (
            {f"_mta-sts.{D} CNAME": [], f"_mta-sts.{D} TXT": ["v=STSv1; id=NEW1"]},
            {"CNAME": RecordStatus.WRONG},
        ),
        ({f"_mta-sts.{D} CNAME": []}, {"CNAME": RecordStatus.MISSING}),
    ],
    ids=[
        "right",
        "our-update-not-live-yet",
        "target-empty",
        "cname-elsewhere",
        "txt-instead-of-cname",
        "cname-missing",
    ],
)
def test_delegated_setup(changes: dict[str, object], expected: dict[str, RecordStatus]) -> None:
    """The discovery name must be a CNAME to the domain's target, whose TXT we keep current."""
    result = verify(DELEGATED, {**GOOD_DELEGATED, **changes})
    found = {c.rdtype: c.status for c in result.checks if c.owner in (f"_mta-sts.{D}", TARGET)}
    assert {k: found[k] for k in expected} == expected
