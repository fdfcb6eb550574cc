"""TLS-ALPN-01 (RFC 8737): the validation certificate the policy server presents to an ACME CA.

When a ClientHello offers only the ``acme-tls/1`` protocol, the CA is validating a
``tls-alpn-01`` challenge for the server name. The server answers with a self-signed certificate
for that name carrying the critical ``id-pe-acmeIdentifier`` extension whose value is the
SHA-256 digest of the key authorization (§3), negotiates ``acme-tls/1``, and closes the
connection after the handshake. The key authorization comes from storage, by name, so any
replica can answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from mailshield.interfaces.policy_server_tls import build_context

ACME_TLS_ALPN = "acme-tls/1"  # RFC 8737 §6.2
ACME_IDENTIFIER = ObjectIdentifier("1.3.6.1.5.5.7.1.31")  # id-pe-acmeIdentifier, RFC 8737 §6.1
_LIFETIME = dt.timedelta(days=7)


def validation_certificate(name: str, key_authorization: str) -> tuple[bytes, bytes]:
    """``(key_pem, cert_pem)``: a self-signed P-256 certificate for ``name`` proving
    ``key_authorization`` (RFC 8737 §3: one dNSName SAN, critical acmeIdentifier extension)."""
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(key_authorization.encode("ascii")).digest()
    # The extension value is the DER encoding of Authorization ::= OCTET STRING (SIZE (32)).
    value = bytes([0x04, len(digest)]) + digest
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.UnrecognizedExtension(ACME_IDENTIFIER, value), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def validation_context(name: str, key_authorization: str) -> ssl.SSLContext:
    """A server context presenting the validation certificate and speaking only ``acme-tls/1``."""
    key_pem, cert_pem = validation_certificate(name, key_authorization)
    context = build_context(key_pem, cert_pem)
    context.set_alpn_protocols([ACME_TLS_ALPN])
    return context
