"""TLSA records for SMTP: usability and matching against a presented chain (RFC 6698 §2, §4;
RFC 7671 §5; RFC 7672 §3).

    usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE   (only 2 and 3 are used for SMTP)
    selector: 0 full certificate, 1 SubjectPublicKeyInfo
    matching type: 0 exact, 1 SHA2-256, 2 SHA2-512
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailshield.core.certs import spki_der
from mailshield.core.observations import TlsaRecord

_DIGEST_SIZES = {0: None, 1: 32, 2: 64}
_USAGE_NAMES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}


def tlsa_owner(host: str, port: int = 25) -> str:
    """The owner name of a server's TLSA records (RFC 6698 §3)."""
    return f"_{port}._tcp.{host}"


def render_tlsa(record: TlsaRecord) -> str:
    return f"{record.usage} {record.selector} {record.mtype} {record.data.hex()}"


def unusable_reason(record: TlsaRecord) -> str | None:
    """Why an SMTP client ignores ``record``, or ``None`` when it is usable.

    RFC 7672 §3.1: PKIX usages (0, 1) are not used for SMTP; RFC 6698 §4.1: unknown parameters
    or a digest of the wrong length make a record unusable.
    """
    if record.usage in (0, 1):
        return f"usage {record.usage} ({_USAGE_NAMES[record.usage]}) is not used for SMTP"
    if record.usage not in (2, 3):
        return f"unknown usage {record.usage}"
    if record.selector not in (0, 1):
        return f"unknown selector {record.selector}"
    if record.mtype not in _DIGEST_SIZES:
        return f"unknown matching type {record.mtype}"
    size = _DIGEST_SIZES[record.mtype]
    if size is not None and len(record.data) != size:
        return f"digest of {len(record.data)} bytes, {size} expected"
    return None


def _selected(cert: x509.Certificate, selector: int) -> bytes:
    return cert.public_bytes(Encoding.DER) if selector == 0 else spki_der(cert)


def _digest(data: bytes, mtype: int) -> bytes:
    if mtype == 1:
        return hashlib.sha256(data).digest()
    if mtype == 2:
        return hashlib.sha512(data).digest()
    return data


def record_matches(record: TlsaRecord, chain: Sequence[x509.Certificate]) -> bool:
    """Whether a usable record matches the chain: DANE-EE the leaf, DANE-TA an issuer in it.

    DANE-EE ignores names and dates (RFC 7671 §5.1); DANE-TA needs the trust anchor in the
    presented chain (RFC 7671 §5.2).
    """
    if unusable_reason(record) is not None or not chain:
        return False
    candidates = chain[:1] if record.usage == 3 else chain[1:]
    return any(
        _digest(_selected(cert, record.selector), record.mtype) == record.data
        for cert in candidates
    )


def suggest_tlsa(leaf: x509.Certificate) -> TlsaRecord:
    """The recommended ``3 1 1`` record for a leaf certificate (RFC 7672 §3.1)."""
    return TlsaRecord(3, 1, 1, hashlib.sha256(spki_der(leaf)).digest())
