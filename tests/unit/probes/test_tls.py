"""The unverified client context: it must complete handshakes a verifying client would refuse."""

import ssl

from mailshield.probes.tls import unverified_context


def test_context_verifies_nothing() -> None:
    """No certificate or host name check: the chain is judged later, not here."""
    context = unverified_context()
    assert context.verify_mode is ssl.CERT_NONE
    assert not context.check_hostname


def test_context_accepts_old_versions() -> None:
    """TLS 1.0 is still offered so a TLS 1.0-only server is observed, not missed."""
    assert unverified_context().minimum_version is ssl.TLSVersion.TLSv1


def test_context_can_be_capped_for_the_legacy_probe() -> None:
    """A capped context offers nothing above the cap."""
    capped = unverified_context(max_version=ssl.TLSVersion.TLSv1_1)
    assert capped.maximum_version is ssl.TLSVersion.TLSv1_1
