"""BIMI assertion records: exact version, required l=, HTTPS URLs, declination, optional tags."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.records.bimi import https_url_problem, parse_bimi, select_bimi

NAME = "default._bimi.example.com"
LOGO = "https://example.com/logo.svg"
VMC = "https://example.com/vmc.pem"


def codes(text: str) -> list[str]:
    return [f.code for f in parse_bimi(text, name=NAME).findings]


@pytest.mark.parametrize(
    "text",
    [
        f"v=BIMI1; l={LOGO}; a={VMC}",
        f"v=BIMI1;l={LOGO};a={VMC};",
        f"v = BIMI1 ; l = {LOGO}",
        f"v=BIMI1; l={LOGO}; avp=personal; lps=sales,news-letter",
        "v=BIMI1; l=; a=;",  # declination
        "v=BIMI1; l=https://cdn.example.com:8443/a/logo.svgz?v=2; x=unknown",
    ],
)
def test_valid_records(text: str) -> None:
    """Records following the draft's grammar parse without findings."""
    result = parse_bimi(text, name=NAME)
    assert result.valid
    assert result.findings == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v=bimi1; l=" + LOGO, ["bimi.record.invalid"], id="version-case"),
        pytest.param(" v=BIMI1; l=" + LOGO, ["bimi.record.invalid"], id="leading-space"),
        pytest.param("l=" + LOGO + "; v=BIMI1", ["bimi.record.invalid"], id="version-not-first"),
        pytest.param("v=BIMI1; a=" + VMC, ["bimi.record.invalid"], id="l-missing"),
        pytest.param("v=BIMI1; l=http://example.com/logo.svg", ["bimi.record.invalid"], id="http"),
        pytest.param(
            f"v=BIMI1; l={LOGO},https://x.example/l.svg", ["bimi.record.invalid"], id="two-urls"
        ),
        pytest.param(
            "v=BIMI1; l=https://exa_mple.com/l.svg", ["bimi.record.invalid"], id="bad-host"
        ),
        pytest.param(
            f"v=BIMI1; l={LOGO}; a=ftp://x.example/v", ["bimi.record.invalid"], id="a-ftp"
        ),
        pytest.param(f"v=BIMI1; l={LOGO}; junk", ["bimi.record.invalid"], id="malformed-part"),
        pytest.param(f"v=BIMI1; l={LOGO}; l={LOGO}", ["bimi.tag.duplicate"], id="duplicate"),
        pytest.param(f"v=BIMI1; l={LOGO}; avp=logo", ["bimi.tag.invalid"], id="bad-avp"),
        pytest.param(f"v=BIMI1; l={LOGO}; lps=a_b", ["bimi.tag.invalid"], id="bad-lps"),
        pytest.param(f"v=BIMI1; l={LOGO}; lps={'a' * 64}", ["bimi.tag.invalid"], id="long-lps"),
    ],
)
def test_findings(text: str, expected: list[str]) -> None:
    """Each deviation has its code; receivers must not repair syntax errors (BIMI-03 … 10)."""
    assert codes(text) == expected


def test_declination() -> None:
    """Empty l= and a= is an explicit declination, not an error."""
    record = parse_bimi("v=BIMI1; l=; a=;").record
    assert record is not None
    assert record.declined


def test_selection() -> None:
    """Only v=BIMI1 records count; near misses are kept for reporting."""
    assert select_bimi([b"v=BIMI1; l=", b"v=spf1 -all", b"v=bimi1; l="]) == (
        ("v=BIMI1; l=",),
        ("v=bimi1; l=",),
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        pytest.param("https://example.com/logo.svg", True, id="plain"),
        pytest.param("HTTPS://example.com/logo.svg", True, id="scheme-case"),
        pytest.param("https://example.com", True, id="no-path"),
        pytest.param("https://user@example.com/l.svg", False, id="userinfo"),
        pytest.param("https:///l.svg", False, id="no-host"),
        pytest.param("https://example.com/a b.svg", False, id="space"),
    ],
)
def test_https_url(url: str, ok: bool) -> None:
    """Indicator and evidence locations must be single HTTPS URLs with a valid host."""
    assert (https_url_problem(url) is None) is ok


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    """For any text, parsing returns a result instead of raising."""
    parse_bimi(text)
    parse_bimi("v=BIMI1; " + text)
    parse_bimi("v=BIMI1; l=" + text)
