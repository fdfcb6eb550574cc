"""Domain names: IDNA 2008 conversion, host-name validation and MTA-STS MX pattern matching."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.names import (
    InvalidName,
    hostname_problem,
    mx_pattern_matches,
    mx_pattern_problem,
    normalise,
    to_alabel,
)
from mailshield.core.names import _converted as idna_converted


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("example.com", "example.com", id="ascii"),
        pytest.param("EXAMPLE.Com.", "example.com", id="case-and-root-dot"),
        pytest.param("bücher.example", "xn--bcher-kva.example", id="u-label"),
        pytest.param("Bücher.Example", "xn--bcher-kva.example", id="u-label-mixed-case"),
        pytest.param("faß.de", "xn--fa-hia.de", id="idna2008-not-2003"),
        pytest.param("xn--bcher-KVA.example", "xn--bcher-kva.example", id="a-label-upper"),
        pytest.param(" example.com ", "example.com", id="surrounding-space"),
    ],
)
def test_to_alabel(name: str, expected: str) -> None:
    """Names come out as lower-case A-labels without the root dot (IDNA 2008 + UTS 46)."""
    assert to_alabel(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param(".", id="root-only"),
        pytest.param("a..b", id="empty-label"),
        pytest.param("-a.com", id="leading-hyphen"),
        pytest.param("xn--zz.com", id="broken-a-label"),
        pytest.param("mx_1.example.com", id="underscore"),
        pytest.param("a" * 64 + ".com", id="label-too-long"),
        pytest.param(".".join(["a" * 60] * 5), id="name-too-long"),
    ],
)
def test_to_alabel_rejects(name: str) -> None:
    """Names IDNA 2008 or the DNS limits forbid raise InvalidName (a ValueError)."""
    with pytest.raises(InvalidName):
        to_alabel(name)


_ASCII_LABEL = st.text(alphabet="aZ09-_x", min_size=0, max_size=66) | st.sampled_from(
    ["xn--bcher-kva", "xn--zz", "ab--c", "XN--FA-HIA", "a" * 63, "a" * 64]
)


@given(st.lists(_ASCII_LABEL, min_size=1, max_size=5), st.booleans())
def test_plain_ascii_names_convert_as_idna_does(labels: list[str], root_dot: bool) -> None:
    """The shortcut for plain LDH names gives what the IDNA 2008 + UTS 46 conversion gives, and
    refuses what it refuses."""
    name = ".".join(labels) + ("." if root_dot else "")
    to_alabel.cache_clear()
    try:
        expected: str | type[InvalidName] = idna_converted(name.removesuffix("."))
    except InvalidName:
        expected = InvalidName
    try:
        got: str | type[InvalidName] = to_alabel(name)
    except InvalidName:
        got = InvalidName
    if expected is not InvalidName and len(str(expected)) > 253:
        expected = InvalidName  # the DNS limit, checked after the conversion
    assert got == expected


def test_normalise_never_fails() -> None:
    """An unconvertible name still compares, as its lower-cased text without the root dot."""
    assert normalise("MX_1.Example.COM.") == "mx_1.example.com"
    assert normalise("Bücher.example.") == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        pytest.param("mx1.example.com", None, id="valid"),
        pytest.param("MX1.Example.com", None, id="upper-case-allowed"),
        pytest.param("xn--bcher-kva.example", None, id="a-label"),
        pytest.param("bücher.example", "non-ASCII", id="u-label"),
        pytest.param("mx1.example.com.", "ends with a dot", id="trailing-dot"),
        pytest.param("mx1..example.com", "empty label", id="empty-label"),
        pytest.param("mx-.example.com", "inner hyphens", id="trailing-hyphen"),
        pytest.param("ab--c.example", "3rd and 4th", id="reserved-hyphens"),
        pytest.param("xn--zz.example", "not a valid A-label", id="broken-a-label"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_hostname_problem(name: str, problem: str | None) -> None:
    """RFC 5321 Domain syntax in A-label form, with the reason when it is not."""
    found = hostname_problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        pytest.param("mx1.example.com", True, id="exact"),
        pytest.param("*.example.com", True, id="wildcard"),
        pytest.param("*.mail.example.net", True, id="wildcard-deeper"),
        pytest.param("m*.example.com", False, id="partial-wildcard"),
        pytest.param("*mail.example.com", False, id="wildcard-glued"),
        pytest.param("*.*.example.com", False, id="two-wildcards"),
        pytest.param("mail.*.example.com", False, id="inner-wildcard"),
        pytest.param("*", False, id="bare-star"),
        pytest.param("bücher.example", False, id="u-label"),
    ],
)
def test_mx_pattern_problem(pattern: str, valid: bool) -> None:
    """Only ["*."] Domain is a valid mx value (RFC 8461 §3.2)."""
    assert (mx_pattern_problem(pattern) is None) is valid


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        pytest.param("mail.example.com", "mail.example.com", True, id="exact"),
        pytest.param("mail.example.com", "MAIL.Example.COM.", True, id="case-and-dot"),
        pytest.param("mail.example.com.", "mail.example.com", True, id="pattern-dot"),
        pytest.param("*.example.com", "mail.example.com", True, id="wildcard-one-label"),
        pytest.param("*.example.com", "example.com", False, id="wildcard-not-parent"),
        pytest.param("*.example.com", "a.b.example.com", False, id="wildcard-not-two-labels"),
        pytest.param("*.example.com", "mail.example.com.evil.test", False, id="anchored-end"),
        pytest.param("*.example.com", "evilexample.com", False, id="label-boundary"),
        pytest.param("*.example.com", ".example.com", False, id="empty-left-label"),
        pytest.param("*.mail.example.net", "in1.mail.example.net", True, id="deeper-wildcard"),
        pytest.param("mail.example.com", "mx.example.com", False, id="other-name"),
        pytest.param("xn--bcher-kva.example", "bücher.example", True, id="idn-host"),
        pytest.param("*.xn--bcher-kva.example", "mx.bücher.example", True, id="idn-wildcard"),
        pytest.param("example.com", "", False, id="empty-host"),
        pytest.param("*.", "a.", False, id="empty-wildcard-base"),
    ],
)
def test_mx_pattern_matches(pattern: str, host: str, expected: bool) -> None:
    """RFC 8461 §4.1: anchored match; a wildcard stands for exactly one left-most label."""
    assert mx_pattern_matches(pattern, host) is expected


@given(st.text(max_size=80), st.text(max_size=80))
def test_mx_pattern_matches_never_raises(pattern: str, host: str) -> None:
    """Matching any two strings answers True or False and never raises."""
    assert mx_pattern_matches(pattern, host) in (True, False)


@given(st.text(max_size=80))
def test_validators_never_raise(name: str) -> None:
    """The validators and normalise accept any text."""
    hostname_problem(name)
    mx_pattern_problem(name)
    normalise(name)


@given(st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z][a-z0-9]{0,10}){1,3}", fullmatch=True))
def test_wildcard_matches_every_one_label_child(base: str) -> None:
    """*.<base> matches any single-label child of <base>, never <base> nor a grandchild."""
    assert mx_pattern_matches(f"*.{base}", f"mx.{base}")
    assert not mx_pattern_matches(f"*.{base}", base)
    assert not mx_pattern_matches(f"*.{base}", f"a.mx.{base}")
