"""The TLS-RPT TXT record: selection, the §3 grammar and the rua destinations."""

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.model import Finding, Status
from mailshield.core.records.tls_rpt import parse_destination, parse_record, select_record

NAME = "_smtp._tls.example.com"


def codes(found: Sequence[Finding]) -> list[str]:
    return [f.code for f in found]


@pytest.mark.parametrize(
    ("txts", "targets"),
    [
        pytest.param(
            [b"v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.net/tlsrpt/v1"],
            ["tlsrpt@example.com", "reports.example.net"],
            id="reference-two-destinations",
        ),
        pytest.param([b"v=TLSRPTv1;rua=mailto:a@example.com"], ["a@example.com"], id="no-space"),
        pytest.param(
            [b"v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.org;"],
            ["a@example.com", "b@example.org"],
            id="spaces-around-comma",
        ),
        pytest.param(
            [b"v=spf1 -all", b"v=TLSRPTv1; rua=mailto:a@example.com"],
            ["a@example.com"],
            id="unrelated-txt-beside",
        ),
        pytest.param(
            [b"v=TLSRPTv1; rua=mailto:rep" + b"orts@example.com"],
            ["reports@example.com"],
            id="split-strings-joined",
        ),
        pytest.param(
            [b"v=TLSRPTv1; rua=mailto:a%2Cb@example.com"],
            ["a,b@example.com"],
            id="percent-encoded-comma",
        ),
        pytest.param(
            [b"v=TLSRPTv1; rua=HTTPS://Reports.Example.NET:8443/x"],
            ["reports.example.net"],
            id="https-upper-case-and-port",
        ),
    ],
)
def test_valid_records(txts: list[bytes], targets: list[str]) -> None:
    """A valid record is selected and parsed into its destinations, with no finding."""
    parse = select_record(txts, NAME)
    assert parse.valid
    assert parse.findings == ()
    assert parse.record is not None
    assert [d.target for d in parse.record.destinations] == targets


@pytest.mark.parametrize(
    ("txt", "problem"),
    [
        pytest.param("v=TLSRPTv1;", "rua field is missing", id="no-fields"),
        pytest.param("v=TLSRPTv1; ruf=mailto:a@example.com", "rua field is missing", id="no-rua"),
        pytest.param("v=TLSRPTv1; rua =mailto:a@b.example", "whitespace around", id="space-eq"),
        pytest.param("v=TLSRPTv1; rua=http://r.example/x", "no usable", id="http-only"),
        pytest.param("v=TLSRPTv1; rua=tlsrpt@example.com", "no usable", id="bare-address"),
        pytest.param("v=TLSRPTv1; rua=mailto:nobody", "no usable", id="mailto-without-at"),
        pytest.param("v=TLSRPTv1; rua=", "no usable", id="empty-rua"),
    ],
)
def test_invalid_records(txt: str, problem: str) -> None:
    """A record without a usable rua destination is invalid: no report would arrive."""
    parse = select_record([txt.encode()], NAME)
    assert not parse.valid
    invalid = [f for f in parse.findings if f.code == "tls_rpt.record.invalid"]
    assert any(problem in str(f.params["problem"]) for f in invalid), parse.findings


def test_one_bad_destination_beside_a_good_one_warns() -> None:
    """An unusable destination next to a usable one is a warning, the record stays valid."""
    parse = select_record([b"v=TLSRPTv1; rua=mailto:a@example.com,ftp://x.example"], NAME)
    assert parse.valid
    assert [(f.code, f.status, f.subject) for f in parse.findings] == [
        ("tls_rpt.rua.invalid", Status.WARN, "ftp://x.example")
    ]


@pytest.mark.parametrize(
    ("uri", "kind", "problem"),
    [
        pytest.param("mailto:tlsrpt@example.com", "mailto", None, id="mailto"),
        pytest.param("MAILTO:tlsrpt@example.com", "mailto", None, id="mailto-upper-scheme"),
        pytest.param("mailto:a@example.com?subject=x", "mailto", None, id="mailto-query"),
        pytest.param("https://r.example/tlsrpt", "https", None, id="https"),
        pytest.param("https://[2001:db8::1]/r", "https", None, id="https-ipv6"),
        pytest.param("https://192.0.2.1/r", "https", None, id="https-ipv4"),
        pytest.param("http://r.example/", "", "https:", id="http"),
        pytest.param("ftp://r.example/", "", "scheme 'ftp'", id="other-scheme"),
        pytest.param("https://", "", "needs a host", id="https-no-host"),
        pytest.param("https://r.example:99999/", "", "port", id="port-range"),
        pytest.param("https://bad_host.example/", "", "host", id="bad-host"),
        pytest.param("mailto:a@bad..example", "", "mail domain", id="bad-mail-domain"),
        pytest.param("mailto:a b@example.com", "", "not a valid URI", id="space"),
        pytest.param("mailto:a%zz@example.com", "", "not a valid URI", id="bad-percent"),
        pytest.param("nocolon", "", "no scheme", id="no-scheme"),
    ],
)
def test_parse_destination(uri: str, kind: str, problem: str | None) -> None:
    """Each rua URI is usable (mailto: or https:) or carries the reason it is not."""
    destination = parse_destination(uri)
    assert destination.kind == kind
    if problem is None:
        assert destination.problem is None
    else:
        assert destination.problem is not None
        assert problem in destination.problem


def test_lenient_version_duplicate_rua_and_unknown_field() -> None:
    """`v=TLSRPTv1 ;` warns; a second rua warns (first wins); an extension is information."""
    record, found = parse_record(
        b"v=TLSRPTv1 ; rua=mailto:a@example.com; rua=mailto:b@example.com; x=1", NAME
    )
    assert [d.target for d in record.destinations] == ["a@example.com"]
    assert [(f.code, f.status) for f in found] == [
        ("tls_rpt.record.lenient_version", Status.WARN),
        ("tls_rpt.record.duplicate_field", Status.WARN),
        ("tls_rpt.record.unknown_field", Status.INFO),
    ]


def test_multiple_and_near_miss() -> None:
    """Two records mean no TLS-RPT; a wrong-case version is reported, not silently missing."""
    many = select_record([b"v=TLSRPTv1; rua=mailto:a@x.example"] * 2, NAME)
    assert codes(many.findings) == ["tls_rpt.record.multiple"]
    near = select_record([b"v=tlsrptv1; rua=mailto:a@x.example"], NAME)
    assert codes(near.findings) == ["tls_rpt.record.invalid"]


@given(st.lists(st.binary(max_size=160), max_size=4))
def test_select_never_raises(txts: list[bytes]) -> None:
    """For any TXT records the selection returns a result and never raises."""
    assert select_record(txts, NAME).valid in (True, False)


@given(st.text(max_size=120))
def test_parse_destination_never_raises(uri: str) -> None:
    """Any text classifies as a destination without raising; usable ones have a target."""
    destination = parse_destination(uri)
    assert (destination.problem is None) == bool(destination.kind)
    if destination.problem is None:
        assert destination.target
