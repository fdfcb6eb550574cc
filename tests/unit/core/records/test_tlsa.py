"""Which TLSA records an SMTP client may use (RFC 7672 §3.1, RFC 6698 §4.1)."""

from __future__ import annotations

import pytest

from mailshield.core.observations import TlsaRecord
from mailshield.core.records.tlsa import tlsa_owner, unusable_reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        pytest.param(TlsaRecord(3, 1, 1, bytes(32)), None, id="dane-ee-spki-sha256"),
        pytest.param(TlsaRecord(2, 0, 2, bytes(64)), None, id="dane-ta-cert-sha512"),
        pytest.param(TlsaRecord(3, 0, 0, b"\x30\x82"), None, id="full-data-any-length"),
        pytest.param(
            TlsaRecord(0, 1, 1, bytes(32)), "usage 0 (PKIX-TA) is not used for SMTP", id="pkix-ta"
        ),
        pytest.param(
            TlsaRecord(1, 1, 1, bytes(32)), "usage 1 (PKIX-EE) is not used for SMTP", id="pkix-ee"
        ),
        pytest.param(TlsaRecord(4, 1, 1, bytes(32)), "unknown usage 4", id="unknown-usage"),
        pytest.param(TlsaRecord(3, 2, 1, bytes(32)), "unknown selector 2", id="unknown-selector"),
        pytest.param(TlsaRecord(3, 1, 9, bytes(32)), "unknown matching type 9", id="unknown-mtype"),
        pytest.param(
            TlsaRecord(3, 1, 1, bytes(31)), "digest of 31 bytes, 32 expected", id="sha256-short"
        ),
        pytest.param(
            TlsaRecord(3, 1, 2, bytes(32)), "digest of 32 bytes, 64 expected", id="sha512-short"
        ),
    ],
)
def test_unusable_reason(record: TlsaRecord, reason: str | None) -> None:
    """PKIX usages, unknown parameters and digests of the wrong size make a record unusable."""
    assert unusable_reason(record) == reason


def test_owner_name() -> None:
    """TLSA records of an SMTP server live at _25._tcp.<host> (RFC 6698 §3, RFC 7672 §2.2)."""
    assert tlsa_owner("mx.example.com") == "_25._tcp.mx.example.com"
