"""Records to publish in zone-file form (RFC 8461 §3.1, §8.2; RFC 8460 §3)."""

from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.hosting.model import Setup
from mailshield.core.hosting.records import (
    ZoneRecord,
    delegation_target,
    policy_host_records,
    quote_txt,
    records_to_publish,
    render_zone,
)


def lines(records: tuple[ZoneRecord, ...]) -> list[str]:
    """Each record as ``owner TYPE value``, for readable comparisons."""
    return [f"{r.owner} {r.rdtype} {r.value}" for r in records]


@pytest.mark.parametrize(
    ("setup", "options", "expected"),
    [
        (
            Setup.CNAME,
            {"policy_host": "mta-sts.mailshield.net", "tlsrpt_rua": "mailto:tls@ms.net"},
            [
                "mta-sts.example.com CNAME mta-sts.mailshield.net.",
                '_mta-sts.example.com TXT "v=STSv1; id=ID1"',
                '_smtp._tls.example.com TXT "v=TLSRPTv1; rua=mailto:tls@ms.net"',
            ],
        ),
        (
            Setup.CNAME,
            {"policy_host": "", "policy_addresses": ["192.0.2.7", "2001:db8::7"]},
            [
                "mta-sts.example.com A 192.0.2.7",
                "mta-sts.example.com AAAA 2001:db8::7",
                '_mta-sts.example.com TXT "v=STSv1; id=ID1"',
            ],
        ),
        (
            Setup.DELEGATED,
            {"policy_host": "mta-sts.mailshield.net", "target": "example.com.sts.ms.net"},
            [
                "mta-sts.example.com CNAME mta-sts.mailshield.net.",
                "_mta-sts.example.com CNAME example.com.sts.ms.net.",
                'example.com.sts.ms.net TXT "v=STSv1; id=ID1"',
            ],
        ),
    ],
    ids=["two-records-and-tlsrpt", "addresses-instead-of-cname", "delegated"],
)
def test_records_to_publish(setup: Setup, options: dict[str, object], expected: list[str]) -> None:
    """Each setup lists its records, required first, in presentation form."""
    records = records_to_publish("example.com", setup, "ID1", **options)  # type: ignore[arg-type]
    assert lines(records) == expected


def test_delegated_txt_is_marked_as_ours() -> None:
    """In the delegated setup only the TXT at the target is published by MailShield."""
    records = records_to_publish(
        "example.com", Setup.DELEGATED, "ID1", policy_host="p.test", target="example.com.z.test"
    )
    assert [r.published_by_mailshield for r in records] == [False, False, True]


def test_tlsrpt_record_is_recommended_not_required() -> None:
    """The TLS-RPT record is advice: a domain is active without it."""
    records = records_to_publish(
        "example.com", Setup.CNAME, "ID1", policy_host="p.test", tlsrpt_rua="mailto:r@p.test"
    )
    assert [r.required for r in records] == [True, True, False]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: policy_host_records("example.com", "", ()), "neither a policy host"),
        (
            lambda: records_to_publish("example.com", Setup.DELEGATED, "ID", policy_host="p.test"),
            "target",
        ),
    ],
    ids=["no-policy-host-configured", "delegated-without-target"],
)
def test_missing_configuration_is_refused(call: object, message: str) -> None:
    """Records cannot be rendered without the configuration they name."""
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_render_zone_parses_as_zone_lines() -> None:
    """Every rendered line is a comment or a record dnspython reads with an absolute owner."""
    records = records_to_publish(
        "example.com", Setup.CNAME, "ID1", policy_host="p.test", tlsrpt_rua="mailto:r@p.test"
    )
    text = render_zone(records)
    for line in text.splitlines():
        if line.startswith(";"):
            continue
        owner, _in, rdtype, value = line.split("\t")
        assert dns.name.from_text(owner).is_absolute()
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), value)


@pytest.mark.parametrize(
    ("domain", "zone", "expected"),
    [
        ("example.com", "sts.mailshield.net", "example.com.sts.mailshield.net"),
        ("example.com", "STS.MailShield.net.", "example.com.sts.mailshield.net"),
    ],
    ids=["readable", "zone-normalised"],
)
def test_delegation_target(domain: str, zone: str, expected: str) -> None:
    """The target is the domain under the delegation zone when it fits."""
    assert delegation_target(domain, zone) == expected


def test_long_names_get_a_digest_label() -> None:
    """A domain too long to nest under the zone gets a digest label, distinct per domain."""
    long_a = ".".join(["a" * 60] * 4)
    long_b = ".".join(["b" * 60] * 4)
    a, b = (
        delegation_target(long_a, "sts.example.net"),
        delegation_target(long_b, "sts.example.net"),
    )
    assert a != b
    assert len(a) <= 253
    assert a.endswith(".sts.example.net")


@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=700))
def test_quote_txt_round_trips(text: str) -> None:
    """dnspython reads back exactly the text, split into strings of at most 255 octets."""
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quote_txt(text))
    strings = rdata.strings  # type: ignore[attr-defined]
    assert b"".join(strings) == text.encode("utf-8")
    assert all(len(s) <= 255 for s in strings)
