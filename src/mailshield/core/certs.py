"""Certificate verdicts: what a sending MTA would think of a presented chain.

Probes record chains unverified (so a bad certificate is still observed); this module judges them
against trust roots, a host name and a time given by the caller. Each problem is reported
separately — an expired certificate for the wrong name from an unknown CA has three problems.

Name matching follows RFC 9525 §6.3 (which obsoletes RFC 6125, as used by RFC 8461 §3.3 and
RFC 7672 §3.2.2): DNS-ID only, a wildcard only as the whole left-most label, matching one label.

Bulk checks meet the same chains again and again (one provider's MX hosts serve many domains),
so the work that depends on the chain alone is done once: parsing and describing a chain is
remembered per chain, and :class:`TrustRoots` remembers each chain it verified together with the
period in which every certificate of the verified path is valid.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID


class CertProblem(enum.StrEnum):
    NO_CERTIFICATE = "no_certificate"
    UNPARSEABLE = "unparseable"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NAME_MISMATCH = "name_mismatch"
    SELF_SIGNED = "self_signed"
    UNTRUSTED = "untrusted"  # does not chain to a trusted root (includes missing intermediates)


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What a report shows about a certificate."""

    subject: str
    issuer: str
    names: tuple[str, ...]  # DNS and IP subjectAltNames (CN only when there is no SAN)
    not_before: dt.datetime
    not_after: dt.datetime
    key_type: str  # rsa, ec, ed25519, ed448, dsa
    key_bits: int
    sha256: str  # fingerprint of the certificate (hex)
    spki_sha256: str  # of the SubjectPublicKeyInfo, as DANE 3 1 1 would publish it (hex)


@dataclass(frozen=True, slots=True)
class CertVerdict:
    hostname: str
    problems: tuple[CertProblem, ...]
    leaf: CertInfo | None = None
    days_left: int | None = None
    chain_length: int = 0
    detail: str = ""

    @property
    def valid(self) -> bool:
        return not self.problems


_MAX_REMEMBERED = 4096  # verified chains kept per set of roots; forgotten all at once when full


class TrustRoots:
    """A set of trusted root certificates (the system store plus any extra bundle)."""

    def __init__(self, certificates: Sequence[x509.Certificate]) -> None:
        self._certs = tuple(certificates)
        self._store = verification.Store(list(self._certs)) if self._certs else None
        # chain (DER) -> when every certificate of the path it was verified along is valid
        self._verified: dict[tuple[bytes, ...], tuple[dt.datetime, dt.datetime]] = {}

    @classmethod
    def from_pem(cls, *bundles: bytes) -> TrustRoots:
        """Roots from PEM bundles; certificates that do not parse are skipped."""
        certs: list[x509.Certificate] = []
        for bundle in bundles:
            try:
                certs.extend(x509.load_pem_x509_certificates(bundle))
            except ValueError:
                continue
        return cls(certs)

    @property
    def store(self) -> verification.Store | None:
        return self._store

    def __len__(self) -> int:
        return len(self._certs)

    def verified_before(self, chain_der: tuple[bytes, ...], at: dt.datetime) -> bool:
        """Whether ``chain_der`` was verified against these roots along a path whose every
        certificate is also valid at ``at`` (so verifying again at ``at`` would succeed)."""
        period = self._verified.get(chain_der)
        return period is not None and period[0] <= at <= period[1]

    def remember_verified(
        self, chain_der: tuple[bytes, ...], path: Sequence[x509.Certificate]
    ) -> None:
        """Note that ``chain_der`` verified along ``path`` (leaf to root)."""
        if len(self._verified) >= _MAX_REMEMBERED:
            self._verified.clear()
        start = max(cert.not_valid_before_utc for cert in path)
        end = min(cert.not_valid_after_utc for cert in path)
        self._verified[chain_der] = (start, end)


def _name_text(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


def certificate_names(cert: x509.Certificate) -> tuple[str, ...]:
    """DNS and IP subjectAltNames; the CN only when there is no SAN extension at all."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return tuple(str(cn.value).lower() for cn in cns)
    dns = [name.lower() for name in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return (*dns, *ips)


class NameSet:
    """A certificate's presented names, indexed so that matching a host costs the same for two
    names as for the thousand some shared-hosting certificates carry (RFC 9525 §6.3)."""

    __slots__ = ("_exact", "_wildcard_parents")

    def __init__(self, names: Sequence[str]) -> None:
        normal = [name.lower().rstrip(".") for name in names]
        self._exact = frozenset(normal)
        # "*.example.com" -> "example.com"; a wildcard needs two labels after it (not "*.com")
        self._wildcard_parents = frozenset(
            name[2:] for name in normal if name.startswith("*.") and name.count(".") >= 2
        )

    def matches(self, hostname: str) -> bool:
        """Whether a name equals ``hostname`` or a wildcard stands for its first label: exactly
        one whole label, never a bare parent or an IP address."""
        host = hostname.lower().rstrip(".")
        if host in self._exact:
            return True
        label, _, parent = host.partition(".")
        return bool(label) and parent in self._wildcard_parents and not _is_ip(host)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _key_kind(key: CertificatePublicKeyTypes) -> tuple[str, int]:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size
    return "unknown", 0


def spki_der(cert: x509.Certificate) -> bytes:
    return _spki(cert.public_key())


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def describe(cert: x509.Certificate, der: bytes) -> CertInfo:
    """What a report shows of ``cert``, whose DER encoding is ``der``."""
    key = cert.public_key()  # decoded once: it costs more than the rest of the description
    key_type, bits = _key_kind(key)
    spki = _spki(key)
    return CertInfo(
        subject=_name_text(cert.subject),
        issuer=_name_text(cert.issuer),
        names=certificate_names(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=bits,
        sha256=hashlib.sha256(der).hexdigest(),
        spki_sha256=hashlib.sha256(spki).hexdigest(),
    )


def load_chain(chain_der: Sequence[bytes]) -> tuple[x509.Certificate, ...] | None:
    """Parse a DER chain; ``None`` when any certificate does not parse."""
    try:
        return tuple(x509.load_der_x509_certificate(der) for der in chain_der)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _parsed(
    chain_der: tuple[bytes, ...],
) -> tuple[tuple[x509.Certificate, ...], CertInfo, NameSet] | None:
    """The parsed chain, its leaf's description and names (``None``: unparseable), remembered."""
    chain = load_chain(chain_der)
    if chain is None:
        return None
    info = describe(chain[0], chain_der[0])
    return chain, info, NameSet(info.names)


def judge_chain(
    chain_der: Sequence[bytes], hostname: str, roots: TrustRoots, now: dt.datetime
) -> CertVerdict:
    """Every problem a verifying sender would find with ``chain_der`` presented for ``hostname``."""
    if not chain_der:
        return CertVerdict(hostname, (CertProblem.NO_CERTIFICATE,))
    key = tuple(chain_der)
    parsed = _parsed(key)
    if parsed is None:
        return CertVerdict(hostname, (CertProblem.UNPARSEABLE,), chain_length=len(chain_der))
    chain, info, names = parsed
    leaf = chain[0]
    problems = _time_problems(leaf, now)
    if not names.matches(hostname):
        problems.append(CertProblem.NAME_MISMATCH)
    trust, detail = _trust_problem(key, chain, roots, now)
    if trust is not None:
        problems.append(trust)
    days_left = (leaf.not_valid_after_utc - now).days
    return CertVerdict(hostname, tuple(problems), info, days_left, len(chain), detail)


def _time_problems(leaf: x509.Certificate, now: dt.datetime) -> list[CertProblem]:
    if now > leaf.not_valid_after_utc:
        return [CertProblem.EXPIRED]
    if now < leaf.not_valid_before_utc:
        return [CertProblem.NOT_YET_VALID]
    return []


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _trust_problem(
    key: tuple[bytes, ...],
    chain: tuple[x509.Certificate, ...],
    roots: TrustRoots,
    now: dt.datetime,
) -> tuple[CertProblem | None, str]:
    """Whether the chain leads to a trusted root, judged apart from the leaf's dates and name.

    Those are reported separately, so the chain is verified at the moment nearest ``now`` that
    lies inside the leaf's validity.
    """
    leaf = chain[0]
    at = min(max(now, leaf.not_valid_before_utc), leaf.not_valid_after_utc)
    if roots.store is not None and roots.verified_before(key, at):
        return None, ""
    path = _verified_path(chain, roots.store, at) if roots.store is not None else None
    if path is not None:
        roots.remember_verified(key, path)
        return None, ""
    if _is_self_signed(leaf):
        return CertProblem.SELF_SIGNED, "the certificate is signed by its own key"
    issuer = _name_text(leaf.issuer)
    return (
        CertProblem.UNTRUSTED,
        f"no chain from the certificate to a trusted root (issuer: {issuer})",
    )


def _verified_path(
    chain: tuple[x509.Certificate, ...], store: verification.Store, at: dt.datetime
) -> list[x509.Certificate] | None:
    """The path from the leaf to a trusted root that verifies at ``at``, or ``None``."""
    leaf = chain[0]
    # Senders (OpenSSL-based MTAs) do not apply the web PKI's extension rules: be as lenient.
    # A client verifier is used because it needs no subject: the name is judged separately.
    lenient = verification.ExtensionPolicy.permit_all()
    ca_policy = lenient.require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
    )
    verifier = (
        verification.PolicyBuilder()
        .store(store)
        .time(at)
        .extension_policies(ca_policy=ca_policy, ee_policy=lenient)
        .build_client_verifier()
    )
    try:
        return verifier.verify(leaf, list(chain[1:])).chain
    except (verification.VerificationError, ValueError):
        return None
