"""Remembered chain work: a chain verified once is trusted again only while every certificate of
its verified path is still valid, so remembering never changes a verdict."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mailshield.core.certs import CertProblem, TrustRoots, judge_chain

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOST = "mx.example.test"


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    days: tuple[int, int],
    *,
    ca: bool,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + days[0] * DAY)
        .not_valid_after(NOW + days[1] * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def world() -> tuple[x509.Certificate, tuple[bytes, ...]]:
    """A root, an intermediate valid for 10 more days, and a leaf valid for 90 more days."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    root = _cert("Root", keys[0], None, (-10, 3650), ca=True)
    intermediate = _cert("Intermediate", keys[1], ("Root", keys[0]), (-10, 10), ca=True)
    leaf = _cert("Leaf", keys[2], ("Intermediate", keys[1]), (-1, 90), ca=False)
    chain = tuple(c.public_bytes(Encoding.DER) for c in (leaf, intermediate))
    return root, chain


@pytest.mark.parametrize(
    ("later", "problems"),
    [
        pytest.param(dt.timedelta(hours=1), (), id="again-while-path-valid"),
        pytest.param(30 * DAY, (CertProblem.UNTRUSTED,), id="after-intermediate-expired"),
    ],
)
def test_remembered_verdicts_equal_fresh_ones(
    world: tuple[x509.Certificate, tuple[bytes, ...]],
    later: dt.timedelta,
    problems: tuple[CertProblem, ...],
) -> None:
    """A second judgement gives what a fresh set of roots gives, inside or outside the period."""
    root, chain = world
    roots = TrustRoots([root])
    assert judge_chain(chain, HOST, roots, NOW).problems == ()
    again = judge_chain(chain, HOST, roots, NOW + later)
    fresh = judge_chain(chain, HOST, TrustRoots([root]), NOW + later)
    assert again.problems == fresh.problems == problems


def test_verified_period_is_that_of_the_whole_path(
    world: tuple[x509.Certificate, tuple[bytes, ...]],
) -> None:
    """The remembered period ends when the intermediate expires, not when the leaf does."""
    root, chain = world
    roots = TrustRoots([root])
    judge_chain(chain, HOST, roots, NOW)
    assert roots.verified_before(chain, NOW + 9 * DAY)
    assert not roots.verified_before(chain, NOW + 11 * DAY)
    assert not roots.verified_before(chain[:1], NOW)
