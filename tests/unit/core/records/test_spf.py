"""SPF record parsing (RFC 7208): selection, every syntax error reported, advice, round trips."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.records.spf import (
    Mechanism,
    Modifier,
    Qualifier,
    SpfRecord,
    parse_spf,
    render_spf,
    select_spf,
    with_all,
)


def codes(text: str) -> list[str]:
    return [f.code for f in parse_spf(text, domain="example.com").findings]


VALID = [
    "v=spf1",
    "v=spf1 -all",
    "V=SPF1 -ALL",  # the version and names are case-insensitive ABNF strings
    "v=spf1 include:_spf.example.net ~all",
    "v=spf1 a mx -all",
    "v=spf1 a:mail.example.com/24 mx:example.net//64 a/26//48 -all",
    "v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ip6:::1 -all",
    "v=spf1 exists:%{i}._spf.%{d} -all",
    "v=spf1 include:%{d2}.example.com exists:%{ir}.%{v}._spf.%{d2} -all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 ip4:192.0.2.1 exp=explain._spf.%{d} -all",
    "v=spf1  ip4:192.0.2.1   -all  ",  # 1*SP between terms, trailing SP allowed
    "v=spf1 a:mail-1.example.com -all",
    "v=spf1 include:example.com.  -all",  # trailing dot: SHOULD NOT, but valid (§7.3)
    "v=spf1 a:%{l}%%%_%-.example.com -all",  # %% %_ %- escapes
]


@pytest.mark.parametrize("text", VALID)
def test_valid_records_have_no_syntax_error(text: str) -> None:
    """Records that follow the RFC 7208 grammar parse and are usable."""
    result = parse_spf(text)
    assert result.record is not None
    assert result.valid, [f.message for f in result.findings]


INVALID = [
    pytest.param("v=spf1 include", id="include-needs-domain"),
    pytest.param("v=spf1 include:", id="include-empty-domain"),
    pytest.param("v=spf1 include:example", id="single-label-domain"),
    pytest.param("v=spf1 include:example.123", id="numeric-top-label"),
    pytest.param("v=spf1 exists", id="exists-needs-domain"),
    pytest.param("v=spf1 ip4:192.0.2", id="partial-ip4"),
    pytest.param("v=spf1 ip4:192.0.2.01", id="ip4-leading-zero"),
    pytest.param("v=spf1 ip4:192.0.2.0/33", id="ip4-prefix-too-long"),
    pytest.param("v=spf1 ip4:192.0.2.0/024", id="prefix-leading-zero"),
    pytest.param("v=spf1 ip4:192.0.2.0/", id="empty-prefix"),
    pytest.param("v=spf1 ip6:2001:db8::/129", id="ip6-prefix-too-long"),
    pytest.param("v=spf1 ip6:192.0.2.1", id="ip4-in-ip6"),
    pytest.param("v=spf1 ip6:fe80::1%eth0", id="ip6-zone-id"),
    pytest.param("v=spf1 ip4", id="ip4-needs-address"),
    pytest.param("v=spf1 a/33", id="a-ip4-prefix-too-long"),
    pytest.param("v=spf1 mx//129", id="mx-ip6-prefix-too-long"),
    pytest.param("v=spf1 a/24/64", id="ip6-prefix-needs-double-slash"),
    pytest.param("v=spf1 a:", id="a-colon-without-domain"),
    pytest.param("v=spf1 ptr/24", id="ptr-takes-no-prefix"),
    pytest.param("v=spf1 all:example.com", id="all-takes-no-argument"),
    pytest.param("v=spf1 +all/0", id="all-takes-no-prefix"),
    pytest.param("v=spf1 ip:192.0.2.1", id="unknown-mechanism"),
    pytest.param("v=spf1 a.example.com", id="mechanism-glued-to-domain"),
    pytest.param("v=spf1 -redirect=example.com", id="qualified-modifier"),
    pytest.param("v=spf1 redirect=", id="redirect-empty"),
    pytest.param("v=spf1 redirect=a.com redirect=b.com", id="duplicate-redirect"),
    pytest.param("v=spf1 exp=a.example.com exp=b.example.com", id="duplicate-exp"),
    pytest.param("v=spf1 exists:%{x}.example.com", id="unknown-macro-letter"),
    pytest.param("v=spf1 exists:%{c}.example.com", id="c-macro-only-in-exp-text"),
    pytest.param("v=spf1 exists:%{i0}.example.com", id="zero-digit-transformer"),
    pytest.param("v=spf1 exists:%{i.example.com", id="unclosed-macro"),
    pytest.param("v=spf1 exists:100%.example.com", id="bare-percent"),
    pytest.param("v=spf1 a:exa mple.com", id="space-splits-domain"),
    pytest.param("v=spf1 ip4:192.0.2.1\t-all", id="tab-separator"),
    pytest.param("v=spf1 a:ex\u00e4mple.com", id="non-ascii"),
    pytest.param("v=spf1 a:example..com", id="empty-label"),
    pytest.param("v=spf1 a:" + "a" * 64 + ".example.com", id="label-too-long"),
    pytest.param("v=spf1 foo=%{z}", id="unknown-modifier-bad-macro"),
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_records_are_permerror(text: str) -> None:
    """Each of these breaks the RFC 7208 §12 grammar, making the record unusable (permerror)."""
    result = parse_spf(text)
    assert not result.valid
    assert {"spf.syntax", "spf.modifier.duplicate"} & {f.code for f in result.findings}


def test_every_syntax_error_is_reported() -> None:
    """All bad terms are reported, not just the first, and good terms are kept."""
    result = parse_spf("v=spf1 ip4:1.2.3 a mx/99 bogus include:_spf.example.com -all")
    bad = [f.params["term"] for f in result.findings if f.code == "spf.syntax"]
    assert bad == ["ip4:1.2.3", "mx/99", "bogus"]
    assert result.record is not None
    assert [t.text() for t in result.record.terms] == ["a", "include:_spf.example.com", "-all"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(" v=spf1 -all", id="leading-space"),
        pytest.param("v=spf1a -all", id="version-glued"),
        pytest.param("v=spf10 -all", id="version-10"),
        pytest.param("spf1 -all", id="no-v-tag"),
        pytest.param("", id="empty"),
    ],
)
def test_not_an_spf_record(text: str) -> None:
    """Text that does not begin exactly with v=spf1 + SP/end is not SPF (RFC 7208 §4.5)."""
    result = parse_spf(text)
    assert result.record is None
    assert codes(text) == ["spf.version.invalid"]


def test_selection_keeps_spf_and_reports_near_misses() -> None:
    """Unrelated TXT records are dropped; records meant as SPF but ignored are near misses."""
    selection = select_spf([b"google-site-verification=x", b"v=spf1 -all", b" v=spf1 mx -all"])
    assert selection.records == ("v=spf1 -all",)
    assert selection.near_misses == (" v=spf1 mx -all",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v=spf1 ptr -all", ["spf.ptr"], id="ptr"),
        pytest.param("v=spf1 exists:%{p}.example.com -all", ["spf.ptr"], id="p-macro"),
        pytest.param("v=spf1 ip4:10.0.0.0/8 -all", ["spf.network.broad"], id="ip4-slash-8"),
        pytest.param("v=spf1 ip6:2001::/16 -all", ["spf.network.broad"], id="ip6-slash-16"),
        pytest.param("v=spf1 a/0 -all", ["spf.network.broad"], id="a-slash-0"),
        pytest.param("v=spf1 ip4:10.0.0.0/9 -all", [], id="ip4-slash-9-fine"),
        pytest.param("v=spf1 foo=bar -all", ["spf.modifier.unknown"], id="unknown-modifier"),
        pytest.param("v=spf1 a:example.com. -all", ["spf.trailing_dot"], id="trailing-dot"),
        pytest.param(
            "v=spf1 exists:%{s}.example.com -all", ["spf.macro.cache_hostile"], id="s-macro"
        ),
        pytest.param("v=spf1 -all mx", ["spf.terms_after_all"], id="terms-after-all"),
        pytest.param(
            "v=spf1 -all redirect=example.net", ["spf.redirect.ignored"], id="redirect-with-all"
        ),
    ],
)
def test_advice_on_valid_records(text: str, expected: list[str]) -> None:
    """Valid but risky constructs are reported with their own codes (SPF-13 … SPF-18)."""
    assert codes(text) == expected


def test_evaluated_terms_stop_at_all_and_redirect_is_ignored_with_all() -> None:
    """Terms after all are never evaluated and redirect is ignored beside all (§5.1, §6.1)."""
    record = parse_spf("v=spf1 a -all mx redirect=example.net").record
    assert record is not None
    assert [m.name for m in record.evaluated] == ["a", "all"]
    assert record.redirect is None
    assert record.modifier("redirect") == "example.net"


@pytest.mark.parametrize(
    ("text", "qualifier", "expected"),
    [
        pytest.param("v=spf1 mx ?all", Qualifier.FAIL, "v=spf1 mx -all", id="replace"),
        pytest.param("v=spf1 mx", Qualifier.FAIL, "v=spf1 mx -all", id="append"),
        pytest.param("v=spf1 -all", Qualifier.PASS, "v=spf1 all", id="plus-is-implicit"),
    ],
)
def test_with_all(text: str, qualifier: Qualifier, expected: str) -> None:
    """The fix helper replaces the first all, or appends one."""
    record = parse_spf(text).record
    assert record is not None
    assert render_spf(with_all(record, qualifier)) == expected


@given(st.text())
def test_parse_never_raises_on_text(text: str) -> None:
    """For any text, parsing returns a result instead of raising."""
    parse_spf(text)
    parse_spf("v=spf1 " + text)


@given(st.binary())
def test_parse_never_raises_on_bytes(data: bytes) -> None:
    """For any bytes (TXT data as received), parsing returns a result instead of raising."""
    parse_spf(b"v=spf1 " + data)


_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_DOMAIN = st.builds(lambda a, b: f"{a}.{b}", _LABEL, st.sampled_from(["com", "example", "net"]))
_QUAL = st.sampled_from(["", "+", "-", "~", "?"])
_V4 = st.ip_addresses(v=4).map(str)
_MECHANISM = st.one_of(
    st.builds(lambda q, d: Mechanism("include", q, d), _QUAL, _DOMAIN),
    st.builds(lambda q, d: Mechanism("exists", q, d), _QUAL, _DOMAIN),
    st.builds(
        lambda q, n, d, c4, c6: Mechanism(n, q, d, None, c4, c6),
        _QUAL,
        st.sampled_from(["a", "mx"]),
        st.none() | _DOMAIN,
        st.none() | st.integers(0, 32),
        st.none() | st.integers(0, 128),
    ),
    st.builds(lambda q, d: Mechanism("ptr", q, d), _QUAL, st.none() | _DOMAIN),
    st.builds(
        lambda q, a, c: Mechanism("ip4", q, network=a, cidr4=c),
        _QUAL,
        _V4,
        st.none() | st.integers(0, 32),
    ),
    st.builds(
        lambda q, a, c: Mechanism("ip6", q, network=a, cidr6=c),
        _QUAL,
        st.ip_addresses(v=6).map(str),
        st.none() | st.integers(0, 128),
    ),
    st.builds(lambda q: Mechanism("all", q), _QUAL),
)
_MODIFIER = st.builds(Modifier, st.sampled_from(["redirect", "exp"]), _DOMAIN)


def _valid_modifiers(terms: list[Mechanism | Modifier]) -> bool:
    names = [t.name for t in terms if isinstance(t, Modifier)]
    return len(names) == len(set(names))


@given(st.lists(st.one_of(_MECHANISM, _MODIFIER), max_size=8).filter(_valid_modifiers))
def test_render_parse_round_trip(terms: list[Mechanism | Modifier]) -> None:
    """Rendering a record and parsing it back gives the same record."""
    record = SpfRecord(tuple(terms))
    parsed = parse_spf(render_spf(record))
    assert parsed.record == record
    assert parsed.valid


def test_macro_then_trailing_dot_is_not_a_domain_end() -> None:
    """``%{d}.`` ends in neither ``"." toplabel`` nor a macro-expand (RFC 7208 §7.1)."""
    assert codes("v=spf1 exists:%{d}. -all") == ["spf.syntax"]
