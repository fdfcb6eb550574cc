"""The TLS-ALPN-01 validation certificate (RFC 8737 §3)."""

from __future__ import annotations

import contextlib
import hashlib
import ssl

from cryptography import x509

from mailshield.interfaces.policy_server_alpn import (
    ACME_IDENTIFIER,
    ACME_TLS_ALPN,
    validation_certificate,
    validation_context,
)

NAME = "mta-sts.a.example"
KEY_AUTHORIZATION = (
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
)


def test_certificate_names_only_the_validated_host() -> None:
    """Exactly one dNSName SAN, the name being validated."""
    _, cert_pem = validation_certificate(NAME, KEY_AUTHORIZATION)
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [NAME]


def test_acme_identifier_is_critical_and_holds_the_digest() -> None:
    """The acmeIdentifier extension is critical and is the DER OCTET STRING of SHA-256(keyAuthz)."""
    _, cert_pem = validation_certificate(NAME, KEY_AUTHORIZATION)
    extension = x509.load_pem_x509_certificate(cert_pem).extensions.get_extension_for_oid(
        ACME_IDENTIFIER
    )
    digest = hashlib.sha256(KEY_AUTHORIZATION.encode()).digest()
    assert extension.critical
    assert extension.value.value == b"\x04\x20" + digest


def test_context_negotiates_only_acme_tls() -> None:
    """A client offering acme-tls/1 gets it negotiated by the validation context."""
    server = validation_context(NAME, KEY_AUTHORIZATION)
    client = ssl.create_default_context()
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.set_alpn_protocols([ACME_TLS_ALPN])
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    tls_client = client.wrap_bio(c_in, c_out, server_hostname=NAME)
    tls_server = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(4):
        for side, outgoing, incoming in ((tls_client, c_out, s_in), (tls_server, s_out, c_in)):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
            incoming.write(outgoing.read())
    assert tls_client.selected_alpn_protocol() == ACME_TLS_ALPN
