"""DMARC record parsing (RFC 7489 §6.3–§6.4, RFC 9989 §4.7–§4.8) and report URIs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.records.dmarc import (
    Policy,
    parse_dmarc,
    render_dmarc,
    select_dmarc,
    with_tags,
)
from mailshield.core.records.dmarc_uri import ReportUri, UriProblem, parse_uri

NAME = "_dmarc.example.com"


def codes(text: str) -> list[str]:
    return [f.code for f in parse_dmarc(text, name=NAME).findings]


VALID = [
    "v=DMARC1; p=none; rua=mailto:dmarc@example.com",
    "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; rua=mailto:d@example.com",
    "v=DMARC1;p=quarantine;rua=mailto:d@example.com;",  # no spaces, trailing separator
    "v = DMARC1 ; p = reject ; rua = mailto:d@example.com",  # WSP around "=" (RFC 7489 ABNF)
    "v=DMARC1; p=reject; rua=mailto:a@example.com, mailto:b@example.com",
    "v=DMARC1; p=reject; rua=mailto:d@example.com; t=n; psd=u",
    "v=DMARC1; p=reject; rua=mailto:d@example.com?subject=report",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_records_have_no_findings(text: str) -> None:
    """Well-formed records with a policy and rua parse without any finding."""
    result = parse_dmarc(text, name=NAME)
    assert result.record is not None
    assert result.findings == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the version tag decides whether receivers read the record at all (DMARC-03)
        pytest.param("v=dmarc1; p=none", ["dmarc.syntax"], id="lower-case-version"),
        pytest.param("V=DMARC1; p=none", ["dmarc.syntax"], id="upper-case-tag-name"),
        pytest.param(" v=DMARC1; p=none", ["dmarc.syntax"], id="leading-space"),
        pytest.param("v=DMARC1 p=none", ["dmarc.syntax"], id="missing-separator"),
        pytest.param("p=none; v=DMARC1", ["dmarc.syntax"], id="version-not-first"),
        # p is required by RFC 7489, RECOMMENDED by RFC 9989 (DMARC-04, DMARC-05)
        pytest.param(
            "v=DMARC1; rua=mailto:d@example.com", ["dmarc.policy.missing"], id="no-policy"
        ),
        pytest.param(
            "v=DMARC1; p=block; rua=mailto:d@example.com", ["dmarc.policy.invalid"], id="bad-p"
        ),
        pytest.param(
            "v=DMARC1; p=Reject; rua=mailto:d@example.com", ["dmarc.policy.case"], id="p-case"
        ),
        # other bad values fall back to defaults (RFC 9989 §4.7)
        pytest.param(
            "v=DMARC1; p=none; sp=all; rua=mailto:d@example.com", ["dmarc.tag.invalid"], id="bad-sp"
        ),
        pytest.param(
            "v=DMARC1; p=none; adkim=x; rua=mailto:d@example.com", ["dmarc.tag.invalid"], id="adkim"
        ),
        pytest.param(
            "v=DMARC1; p=none; t=yes; rua=mailto:d@example.com", ["dmarc.tag.invalid"], id="t"
        ),
        pytest.param(
            "v=DMARC1; p=none; fo=2; rua=mailto:d@example.com",
            ["dmarc.tag.invalid"],
            id="bad-fo",
        ),
        pytest.param(
            "v=DMARC1; p=none; pct=101; rua=mailto:d@example.com",
            ["dmarc.tag.invalid", "dmarc.tag.obsolete"],
            id="pct-over-100",
        ),
        # tag-list structure
        pytest.param(
            "v=DMARC1; p=none; p=reject; rua=mailto:d@example.com",
            ["dmarc.tag.duplicate"],
            id="duplicate-tag",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com; garbage",
            ["dmarc.tag.malformed"],
            id="part-without-equals",
        ),
        pytest.param(
            "v=DMARC1; rua=mailto:d@example.com; p=none", ["dmarc.tag.order"], id="p-not-second"
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com; foo=1", ["dmarc.tag.unknown"], id="unknown"
        ),
        # reporting (DMARC-08, DMARC-11, DMARC-12, DMARC-15)
        pytest.param("v=DMARC1; p=none", ["dmarc.rua.missing"], id="no-rua"),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:a@example.com,b@example.com",
            ["dmarc.uri.invalid"],
            id="second-address-without-scheme",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=dmarc@example.com", ["dmarc.uri.invalid"], id="no-scheme"
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com!x", ["dmarc.uri.invalid"], id="bare-bang"
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com!10m",
            ["dmarc.uri.size_limit"],
            id="size-suffix",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=https://reports.example.com/dmarc",
            ["dmarc.uri.scheme"],
            id="https-scheme",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com; ruf=mailto:f@example.com",
            ["dmarc.ruf.present"],
            id="ruf",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com; fo=1",
            ["dmarc.fo.without_ruf"],
            id="fo-without-ruf",
        ),
        pytest.param(
            "v=DMARC1; p=none; rua=mailto:d@example.com; ruf=mailto:f@example.com; fo=0:1",
            ["dmarc.ruf.present", "dmarc.fo.conflict"],
            id="fo-0-and-1",
        ),
        # policy notes (DMARC-07, DMARC-09)
        pytest.param(
            "v=DMARC1; p=reject; pct=50; rua=mailto:d@example.com",
            ["dmarc.tag.obsolete", "dmarc.pct.partial"],
            id="pct-50",
        ),
        pytest.param(
            "v=DMARC1; p=reject; t=y; rua=mailto:d@example.com", ["dmarc.testing"], id="testing"
        ),
        pytest.param(
            "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com",
            ["dmarc.subdomain_policy.none"],
            id="sp-none",
        ),
    ],
)
def test_findings(text: str, expected: list[str]) -> None:
    """Each deviation produces its own finding code."""
    assert codes(text) == expected


def test_defaults_and_values() -> None:
    """Tags are read with RFC 7489/9989 defaults; an invalid value falls back to the default."""
    record = parse_dmarc("v=DMARC1; p=reject; adkim=x; sp=quarantine").record
    assert record is not None
    assert (record.p, record.sp, record.adkim, record.aspf, record.psd) == (
        Policy.REJECT,
        Policy.QUARANTINE,
        "r",
        "r",
        "u",
    )
    assert record.subdomain_policy is Policy.QUARANTINE


def test_selection() -> None:
    """Only records whose first tag is v=DMARC1 are DMARC; near misses are kept for reporting."""
    selection = select_dmarc([b"v=DMARC1; p=none", b"v=spf1 -all", b"v=dmarc1; p=none"])
    assert selection.records == ("v=DMARC1; p=none",)
    assert selection.near_misses == ("v=dmarc1; p=none",)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        pytest.param("mailto:d@example.com", "example.com", id="mailto"),
        pytest.param("mailto:d@Reports.Example.NET.", "reports.example.net", id="case-dot"),
        pytest.param("mailto:d%40x@example.com", "example.com", id="encoded-at-in-local"),
        pytest.param("https://user@r.example.com:8443/x", "r.example.com", id="https"),
    ],
)
def test_uri_host(text: str, host: str) -> None:
    """The destination host is the address's domain or the URI's authority host."""
    uri = parse_uri(text)
    assert isinstance(uri, ReportUri)
    assert uri.host == host


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("mailto:", id="no-address"),
        pytest.param("mailto:example.com", id="no-at"),
        pytest.param("mailto:a@b@example.com", id="two-at"),
        pytest.param("mailto:d@exa_mple.com", id="bad-host"),
        pytest.param("mailto:d @example.com", id="space"),
        pytest.param("https:/reports.example.com", id="no-authority"),
        pytest.param("mailto:d@example.com!1!2", id="two-bangs"),
    ],
)
def test_bad_uris(text: str) -> None:
    """Malformed report URIs are reported with a reason (DMARC-12)."""
    assert isinstance(parse_uri(text), UriProblem)


def test_with_tags_changes_policy_and_keeps_the_rest() -> None:
    """The p=none fix keeps every published tag, changing only p."""
    record = parse_dmarc("v=DMARC1; p=none; rua=mailto:d@example.com; adkim=s").record
    assert record is not None
    assert with_tags(record, p="quarantine") == (
        "v=DMARC1; p=quarantine; rua=mailto:d@example.com; adkim=s"
    )
    assert with_tags(record, adkim=None, ruf="mailto:f@example.com") == (
        "v=DMARC1; p=none; rua=mailto:d@example.com; ruf=mailto:f@example.com"
    )


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    """For any text, parsing returns a result instead of raising."""
    parse_dmarc(text)
    parse_dmarc("v=DMARC1; " + text)
    parse_dmarc("v=DMARC1; p=none; rua=" + text)


@given(st.binary())
def test_parse_never_raises_on_bytes(data: bytes) -> None:
    """For any TXT bytes, parsing returns a result instead of raising."""
    parse_dmarc(b"v=DMARC1; p=" + data)


_VALUE = st.sampled_from(["none", "quarantine", "reject"])
_TAGS = st.fixed_dictionaries(
    {"p": _VALUE},
    optional={
        "sp": _VALUE,
        "np": _VALUE,
        "adkim": st.sampled_from("rs"),
        "aspf": st.sampled_from("rs"),
        "rua": st.sampled_from(["mailto:d@example.com", "mailto:a@example.net,mailto:b@x.org"]),
        "t": st.sampled_from("yn"),
        "psd": st.sampled_from("ynu"),
    },
)


@given(_TAGS)
def test_render_parse_round_trip(tags: dict[str, str]) -> None:
    """A rendered record parses back to the same tags and values."""
    parsed = parse_dmarc(render_dmarc(list(tags.items())))
    assert parsed.record is not None
    assert dict(parsed.record.tags) == {"v": "DMARC1", **tags}
    assert parsed.record.p == Policy(tags["p"])
    again = parse_dmarc(render_dmarc(parsed.record.tags))
    assert again.record == parsed.record
