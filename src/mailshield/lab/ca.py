"""The lab's certificate authority: a root that lab certificates chain to, plus deliberately broken
certificates (expired, not yet valid, wrong name, self-signed, from an untrusted CA).

The root's PEM file is what the checker is pointed at with ``--ca-bundle`` in lab mode.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class IssuedCert:
    """A leaf certificate with its chain (leaf first, without the root) and private key, as PEM."""

    cert_pem: bytes
    chain_pem: bytes
    key_pem: bytes

    @property
    def fullchain_pem(self) -> bytes:
        return self.cert_pem + self.chain_pem

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.crt`` (full chain) and ``stem.key``; returns both paths."""
        folder.mkdir(parents=True, exist_ok=True)
        crt, key = folder / f"{stem}.crt", folder / f"{stem}.key"
        crt.write_bytes(self.fullchain_pem)
        key.write_bytes(self.key_pem)
        key.chmod(0o600)
        return crt, key


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MailShield lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


class LabCA:
    """A self-signed root (ECDSA P-256) that issues lab certificates."""

    def __init__(
        self, name: str = "MailShield lab root", *, now: dt.datetime | None = None
    ) -> None:
        self._now = now or dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(name)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - 400 * _DAY)
            .not_valid_after(self._now + 3650 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert(self) -> x509.Certificate:
        return self._cert

    @property
    def cert_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def write_root(self, path: Path) -> Path:
        """Write the root certificate (the trust anchor to give the checker) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def issue(
        self,
        *names: str,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        self_signed: bool = False,
    ) -> IssuedCert:
        """A server certificate for ``names`` (DNS names or IP addresses).

        Defaults to valid from yesterday for 90 days; ``self_signed`` makes a certificate that
        signs itself instead of chaining to this root.
        """
        if not names:
            raise ValueError("a certificate needs at least one name")
        key = ec.generate_private_key(ec.SECP256R1())
        issuer_name = _name(names[0]) if self_signed else self._cert.subject
        signer = key if self_signed else self._key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or self._now - _DAY)
            .not_valid_after(not_after or self._now + 90 * _DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_san(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        cert = builder.sign(signer, hashes.SHA256())
        return IssuedCert(cert.public_bytes(serialization.Encoding.PEM), b"", _key_pem(key))

    def issue_expired(self, *names: str) -> IssuedCert:
        return self.issue(*names, not_before=self._now - 100 * _DAY, not_after=self._now - _DAY)

    def issue_not_yet_valid(self, *names: str) -> IssuedCert:
        return self.issue(
            *names, not_before=self._now + 10 * _DAY, not_after=self._now + 100 * _DAY
        )
