"""Reading single TLS-RPT values as real reporters send them: times, counts, IPs, names, TLSA."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.tls_report_values import (
    MAX_COUNT,
    Quirk,
    canonical_ip,
    normalise_host,
    read_count,
    read_datetime,
    tlsa_lines_from_json,
)

MIDNIGHT = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "moment", "quirk"),
    [
        pytest.param("2024-05-01T00:00:00Z", MIDNIGHT, Quirk.NONE, id="rfc3339-z"),
        pytest.param("2024-05-01t00:00:00z", MIDNIGHT, Quirk.NONE, id="rfc3339-lower-case"),
        pytest.param("2024-05-01T02:00:00+02:00", MIDNIGHT, Quirk.NONE, id="offset-to-utc"),
        pytest.param(
            "2024-05-01T00:00:00.250Z",
            MIDNIGHT.replace(microsecond=250000),
            Quirk.NONE,
            id="fraction",
        ),
        pytest.param("2024-05-01T00:00:00", MIDNIGHT, Quirk.NO_OFFSET, id="microsoft-no-offset"),
        pytest.param("2024-05-01", MIDNIGHT, Quirk.NO_OFFSET_NOT_RFC3339, id="date-only"),
        pytest.param("2024-05-01 00:00:00Z", MIDNIGHT, Quirk.NOT_RFC3339, id="space-separator"),
        pytest.param(1714521600, MIDNIGHT, Quirk.NOT_RFC3339, id="unix-seconds"),
        pytest.param("yesterday", None, Quirk.MISSING, id="words"),
        pytest.param(None, None, Quirk.MISSING, id="absent"),
        pytest.param(True, None, Quirk.MISSING, id="boolean"),
        pytest.param(1e300, None, Quirk.MISSING, id="huge-number"),
        pytest.param("0001-01-01T00:00:00+01:00", None, Quirk.MISSING, id="before-year-one-utc"),
    ],
)
def test_read_datetime(raw: Any, moment: datetime | None, quirk: Quirk) -> None:
    """Date-times become aware UTC values; each tolerated shape is reported (RFC 3339 §5.6)."""
    assert read_datetime(raw) == (moment, quirk)


@pytest.mark.parametrize(
    ("raw", "count", "quirk"),
    [
        pytest.param(12, 12, Quirk.NONE, id="integer"),
        pytest.param(0, 0, Quirk.NONE, id="zero"),
        pytest.param("12", 12, Quirk.NOT_INTEGER, id="numeric-string"),
        pytest.param(" 7 ", 7, Quirk.NOT_INTEGER, id="padded-string"),
        pytest.param(7.0, 7, Quirk.NOT_INTEGER, id="integral-float"),
        pytest.param(7.5, 0, Quirk.INVALID, id="fraction"),
        pytest.param(-1, 0, Quirk.INVALID, id="negative"),
        pytest.param("-1", 0, Quirk.INVALID, id="negative-string"),
        pytest.param("١٢", 0, Quirk.INVALID, id="non-ascii-digits"),
        pytest.param(MAX_COUNT + 1, 0, Quirk.INVALID, id="beyond-i-json-range"),
        pytest.param(True, 0, Quirk.INVALID, id="boolean"),
        pytest.param([1], 0, Quirk.INVALID, id="array"),
        pytest.param(None, 0, Quirk.MISSING, id="absent"),
    ],
)
def test_read_count(raw: Any, count: int, quirk: Quirk) -> None:
    """Counts are non-negative integers; numeric strings are accepted and reported."""
    assert read_count(raw) == (count, quirk)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("192.0.2.1", "192.0.2.1", id="ipv4"),
        pytest.param(" 192.0.2.1 ", "192.0.2.1", id="padded"),
        pytest.param("2001:DB8:0:0:0:0:0:1", "2001:db8::1", id="ipv6-rfc5952"),
        pytest.param("2001:db8:abcd:0012::1", "2001:db8:abcd:12::1", id="rfc8460-example"),
        pytest.param("192.0.2.010", None, id="leading-zero-refused"),
        pytest.param("mx.example.com", None, id="host-name"),
        pytest.param("", None, id="empty"),
    ],
)
def test_canonical_ip(raw: str, canonical: str | None) -> None:
    """IP addresses come back in canonical text; anything else is ``None`` (RFC 8460 §4.4)."""
    assert canonical_ip(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "wildcard", "name", "quirk"),
    [
        pytest.param("mx.example.com", False, "mx.example.com", Quirk.NONE, id="plain"),
        pytest.param("MX.Example.COM", False, "mx.example.com", Quirk.NONE, id="case"),
        pytest.param("mx.example.com.", False, "mx.example.com", Quirk.TRAILING_DOT, id="dot"),
        pytest.param("bücher.example", False, "xn--bcher-kva.example", Quirk.U_LABEL, id="u"),
        pytest.param(
            "*.bücher.example",
            True,
            "*.xn--bcher-kva.example",
            Quirk.U_LABEL,
            id="wildcard-u-label",
        ),
        pytest.param("*.mail.example", True, "*.mail.example", Quirk.NONE, id="wildcard"),
        pytest.param(
            "*.mail.example", False, "*.mail.example", Quirk.INVALID, id="wildcard-not-allowed"
        ),
        pytest.param("a..b", False, "a..b", Quirk.INVALID, id="empty-label"),
        pytest.param("bad name.example", False, "bad name.example", Quirk.INVALID, id="space"),
        pytest.param("☃\u200d.example", False, "☃\u200d.example", Quirk.INVALID, id="bad-idna"),
    ],
)
def test_normalise_host(raw: str, wildcard: bool, name: str, quirk: Quirk) -> None:
    """Names become lower-case A-labels without a trailing dot (RFC 8460 §4.4)."""
    assert normalise_host(raw, wildcard) == (name, quirk)


HEX = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1"


@pytest.mark.parametrize(
    ("raw", "lines"),
    [
        pytest.param(
            {
                "TlsaRecords": [
                    {
                        "Usage": 3,
                        "Selector": 1,
                        "MatchingType": 1,
                        "CertificateAssociationData": HEX.upper(),
                    }
                ]
            },
            [f"3 1 1 {HEX}"],
            id="wrapped-array-of-objects",
        ),
        pytest.param(
            {"usage": "3", "selector": "1", "matching-type": "1", "data": HEX},
            [f"3 1 1 {HEX}"],
            id="one-object-string-numbers",
        ),
        pytest.param([f"3 1 1  {HEX}"], [f"3 1 1 {HEX}"], id="array-of-presentation-strings"),
        pytest.param({"usage": 3, "selector": 1}, None, id="incomplete"),
        pytest.param({"usage": 300, "selector": 1, "mtype": 1, "data": HEX}, None, id="range"),
        pytest.param({"usage": 3, "selector": 1, "mtype": 1, "data": "xyz"}, None, id="not-hex"),
        pytest.param(42, None, id="number"),
    ],
)
def test_tlsa_lines_from_json(raw: Any, lines: list[str] | None) -> None:
    """TLSA records serialised as JSON become RFC 8460 §4.5 presentation lines."""
    assert tlsa_lines_from_json(json.dumps(raw)) == lines


def test_tlsa_lines_from_json_ignores_text_that_is_not_json() -> None:
    """A policy-string element that only looks like JSON is left alone."""
    assert tlsa_lines_from_json("{not json") is None


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)))
def test_value_readers_never_raise(raw: Any) -> None:
    """Every reader accepts any JSON scalar and answers with a value and a quirk."""
    assert isinstance(read_datetime(raw)[1], Quirk)
    assert isinstance(read_count(raw)[1], Quirk)
    if isinstance(raw, str):
        assert isinstance(normalise_host(raw, wildcard=True)[1], Quirk)
        assert canonical_ip(raw) is None or isinstance(canonical_ip(raw), str)
        assert tlsa_lines_from_json(raw) is None or isinstance(tlsa_lines_from_json(raw), list)
