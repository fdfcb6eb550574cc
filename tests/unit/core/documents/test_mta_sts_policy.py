"""The MTA-STS policy file: every problem reported with its line, and a canonical renderer."""

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.mta_sts_policy import (
    MAX_AGE_LIMIT,
    Mode,
    parse_policy,
    policy_id,
    render_policy,
)
from mailshield.core.model import Finding, Status

REFERENCE = (
    b"version: STSv1\r\n"
    b"mode: enforce\r\n"
    b"mx: mx1.example.com\r\n"
    b"mx: mx2.example.com\r\n"
    b"mx: *.mail.example.net\r\n"
    b"max_age: 1209600\r\n"
)

IDN_POLICY = "version: STSv1\nmode: testing\nmx: bücher.example\nmx: a.example\nmax_age: 1\n"


def problems(found: Sequence[Finding]) -> list[tuple[str, object, str]]:
    return [(f.code, f.params.get("line"), str(f.params.get("problem", ""))) for f in found]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(REFERENCE, id="crlf"),
        pytest.param(REFERENCE.replace(b"\r\n", b"\n"), id="lf"),
        pytest.param(REFERENCE.rstrip(b"\r\n"), id="no-final-newline"),
        pytest.param(REFERENCE.replace(b": ", b":"), id="no-space-after-colon"),
        pytest.param(REFERENCE.replace(b": ", b":\t "), id="tab-after-colon"),
    ],
)
def test_valid_policy_has_no_findings(body: bytes) -> None:
    """A valid policy (CRLF or LF, any WSP after ':') parses with no finding at all."""
    parse = parse_policy(body)
    assert parse.findings == ()
    assert parse.valid
    assert parse.version == "STSv1"
    assert parse.mode is Mode.ENFORCE
    assert parse.max_age == 1209600
    assert parse.mx == ("mx1.example.com", "mx2.example.com", "*.mail.example.net")


def test_mode_none_needs_no_mx() -> None:
    """mode none is valid without any mx line (§3.2)."""
    parse = parse_policy(b"version: STSv1\nmode: none\nmax_age: 86400\n")
    assert parse.valid
    assert parse.findings == ()
    assert parse.mx == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 1, "it must be exactly 'STSv1'")],
            id="wrong-version",
        ),
        pytest.param(
            b"version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 2, "must be enforce, testing or none")],
            id="mode-value-case",
        ),
        pytest.param(
            b"version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 2, "must be written 'mode'")],
            id="key-case-explains-missing-mode",
        ),
        pytest.param(
            b"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1w\n",
            [("mta_sts.policy.syntax", 4, "1 to 10 digits")],
            id="max-age-not-digits",
        ),
        pytest.param(
            b"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
            [("mta_sts.policy.syntax", 4, "1 to 10 digits")],
            id="max-age-11-digits",
        ),
        pytest.param(
            b"version: STSv1\nmode: enforce\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", None, "mode enforce needs at least one mx line")],
            id="enforce-without-mx",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: m*.example.com\nmax_age: 86400\n",
            [
                ("mta_sts.policy.syntax", 3, "wildcard is allowed only"),
                ("mta_sts.policy.syntax", None, "needs at least one mx line"),
            ],
            id="partial-wildcard",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example.\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 3, "must not end with a dot")],
            id="mx-trailing-dot",
        ),
        pytest.param(
            IDN_POLICY,
            [("mta_sts.policy.syntax", 3, "non-ASCII")],
            id="mx-u-label",
        ),
        pytest.param(
            b"version: STSv1\nmode : testing\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 2, "whitespace before ':'")],
            id="space-before-colon",
        ),
        pytest.param(
            b"version: STSv1\n mode: testing\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 2, "starts with whitespace")],
            id="leading-whitespace",
        ),
        pytest.param(
            b"version: STSv1\rmode: testing\rmx: a.example\rmax_age: 86400\r",
            [("mta_sts.policy.syntax", n, "bare CR") for n in (1, 2, 3, 4)],
            id="cr-only-lines",
        ),
        pytest.param(
            b"\xef\xbb\xbfversion: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\n",
            [("mta_sts.policy.syntax", 1, "byte-order mark")],
            id="bom",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\ncomment: \xff\n",
            [
                ("mta_sts.policy.syntax", 5, "not valid UTF-8"),
                ("mta_sts.policy.unknown_key", 5, ""),
            ],
            id="invalid-utf8",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\nmx a.example\n",
            [("mta_sts.policy.syntax", 5, "is not a 'key: value' line")],
            id="no-colon",
        ),
        pytest.param(b"", [("mta_sts.policy.syntax", None, "the policy is empty")], id="empty"),
    ],
)
def test_errors_are_reported_with_their_line(
    body: bytes, expected: list[tuple[str, object, str]]
) -> None:
    """Each error is reported once, at its line, with its reason; the policy is invalid."""
    parse = parse_policy(body)
    found = problems(parse.findings)
    assert len(found) == len(expected), found
    for (code, line, text), (want_code, want_line, want_text) in zip(found, expected, strict=True):
        assert (code, line) == (want_code, want_line)
        assert want_text in text
    assert not parse.valid or all(code != "mta_sts.policy.syntax" for code, _, _ in expected)


def test_every_error_is_reported_not_just_the_first() -> None:
    """A policy with four mistakes yields four findings, in line order."""
    body = b"version: STSv2\nmode: Enforce\nmx: m*.example.com\nmax_age: soon\n"
    lines = [f.params["line"] for f in parse_policy(body).findings]
    assert lines[:4] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("body", "code", "status", "line"),
    [
        pytest.param(
            b"version: STSv1\r\nmode: testing\nmx: a.example\r\nmax_age: 86400\r\n",
            "mta_sts.policy.format",
            Status.WARN,
            2,
            id="mixed-line-ends",
        ),
        pytest.param(
            b"version: STSv1\n\nmode: testing\nmx: a.example\nmax_age: 86400\n",
            "mta_sts.policy.format",
            Status.WARN,
            2,
            id="blank-line",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\n\n",
            "mta_sts.policy.format",
            Status.WARN,
            5,
            id="two-final-newlines",
        ),
        pytest.param(
            b"version: STSv1 \nmode: testing\nmx: a.example\nmax_age: 86400\n",
            "mta_sts.policy.format",
            Status.WARN,
            1,
            id="trailing-whitespace",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: A.Example\nmax_age: 86400\n",
            "mta_sts.policy.format",
            Status.INFO,
            3,
            id="upper-case-mx",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmx: a.example\nmax_age: 86400\n",
            "mta_sts.policy.format",
            Status.INFO,
            4,
            id="duplicate-mx",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\ncomment: hi there\n",
            "mta_sts.policy.unknown_key",
            Status.INFO,
            5,
            id="unknown-key",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 86400\n",
            "mta_sts.policy.duplicate_key",
            Status.WARN,
            3,
            id="duplicate-mode",
        ),
        pytest.param(
            b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 31557601\n",
            "mta_sts.policy.max_age_long",
            Status.FAIL,
            4,
            id="max-age-above-limit",
        ),
    ],
)
def test_single_findings(body: bytes, code: str, status: Status, line: int) -> None:
    """Warnings and information carry their own code, status and line."""
    found = parse_policy(body).findings
    assert [(f.code, f.status, f.params["line"]) for f in found] == [(code, status, line)]


def test_duplicates_first_wins_except_mx() -> None:
    """A later mode does not override an earlier one; every mx line counts (§3.2)."""
    parse = parse_policy(
        b"version: STSv1\nmode: testing\nmx: a.example\nmode: enforce\nmx: b.example\n"
        b"max_age: 86400\nmax_age: 1\n"
    )
    assert parse.mode is Mode.TESTING
    assert parse.max_age == 86400
    assert parse.mx == ("a.example", "b.example")


def test_unknown_keys_are_kept() -> None:
    """Unknown keys are ignored by senders but kept for the report."""
    parse = parse_policy(REFERENCE + b"comment: hosted by us\r\n")
    assert parse.extensions == (("comment", "hosted by us"),)
    assert parse.valid


def test_trailing_dot_pattern_still_counts_for_matching() -> None:
    """An mx value with a trailing dot is an error, but its intent is kept (normalised)."""
    parse = parse_policy(b"version: STSv1\nmode: enforce\nmx: MX.example.com.\nmax_age: 86400\n")
    assert parse.mx == ("mx.example.com",)
    assert not parse.valid


def test_render_policy_is_canonical() -> None:
    """Rendering gives CRLF lines, lower-case A-label patterns, de-duplicated, in order."""
    body = render_policy(
        "enforce",
        1209600,
        ["mx1.example.com", "MX2.Example.com.", "*.mail.example.net", "mx1.example.com"],
    )
    assert body.encode() == REFERENCE
    # The reference id (email-security-rfcs.md §11.1) is the SHA-256 prefix of this body.
    assert len(policy_id(body)) == 32


def test_render_converts_u_labels() -> None:
    """A U-label host is written as its A-label (§3.2 requires A-labels)."""
    body = render_policy(Mode.TESTING, 86400, ["bücher.example", "*.bücher.example"])
    assert "mx: xn--bcher-kva.example\r\n" in body
    assert "mx: *.xn--bcher-kva.example\r\n" in body


@pytest.mark.parametrize(
    ("mode", "max_age", "mx", "reason"),
    [
        pytest.param("Enforce", 86400, ["a.example"], "is not a valid Mode", id="mode-case"),
        pytest.param("enforce", -1, ["a.example"], "max_age", id="negative-max-age"),
        pytest.param("enforce", MAX_AGE_LIMIT + 1, ["a.example"], "max_age", id="max-age-long"),
        pytest.param("enforce", 86400, [], "at least one mx", id="no-mx"),
        pytest.param("testing", 86400, ["m*.example"], "invalid mx pattern", id="bad-pattern"),
        pytest.param("testing", 86400, ["a..example"], "invalid mx pattern", id="bad-host"),
        pytest.param("testing", 86400, ["a0--0.aa"], "invalid mx pattern", id="reserved-ldh"),
    ],
)
def test_render_refuses_invalid_input(mode: str, max_age: int, mx: list[str], reason: str) -> None:
    """The renderer only ever produces valid policies."""
    with pytest.raises(ValueError, match=reason):
        render_policy(mode, max_age, mx)


def test_policy_id_changes_with_the_body() -> None:
    """Same body, same id; a different body, a different id; always 1-32 alphanumerics."""
    a = render_policy("testing", 86400, ["a.example"])
    b = render_policy("enforce", 86400, ["a.example"])
    assert policy_id(a) == policy_id(a.encode())
    assert policy_id(a) != policy_id(b)
    assert policy_id(a).isalnum()


hosts = st.from_regex(
    r"(\*\.)?[a-z][a-z0-9-]{0,8}[a-z0-9](\.[a-z]{2,6}){1,2}", fullmatch=True
).filter(lambda host: host.removeprefix("*.")[2:4] != "--")  # reserved LDH (RFC 5890 §2.3.1)


@given(
    st.sampled_from(list(Mode)),
    st.integers(min_value=0, max_value=MAX_AGE_LIMIT),
    st.lists(hosts, min_size=1, max_size=5),
)
def test_render_parse_round_trip(mode: Mode, max_age: int, mx: list[str]) -> None:
    """Whatever is rendered parses back to the same values with no finding."""
    parse = parse_policy(render_policy(mode, max_age, mx).encode())
    assert parse.findings == ()
    assert (parse.mode, parse.max_age, parse.mx) == (mode, max_age, tuple(dict.fromkeys(mx)))


@given(st.binary(max_size=400))
def test_parse_never_raises_on_bytes(body: bytes) -> None:
    """For any bytes, parse_policy returns a result and never raises."""
    parse = parse_policy(body)
    assert parse.valid in (True, False)


@given(
    st.lists(
        st.sampled_from(
            [
                "version: STSv1",
                "mode: enforce",
                "mode: testing",
                "mx: a.example",
                "max_age: 1",
                " x",
                "Mode: none",
                "mx: *.",
                "",
                ":",
                "k:v",
                "max_age: 99999999999",
            ]
        ),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_parse_never_raises_on_policy_like_text(lines: list[str], end: str) -> None:
    """Policy-shaped text parses without raising; a valid result has every required field."""
    parse = parse_policy(end.join(lines))
    if parse.valid:
        assert parse.version == "STSv1"
        assert parse.mode is not None
        assert parse.max_age is not None
