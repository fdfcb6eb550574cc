"""Lab TLS helpers: the certificate each behaviour presents, and server context versions."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from cryptography import x509

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.ca import IssuedCert, LabCA
from mailshield.lab.tls import WRONG_NAME, BehaviourCertificates, server_context

NAMES = ("mx1.a.test", "mx2.a.test")


@pytest.fixture(scope="module")
def certs() -> BehaviourCertificates:
    return BehaviourCertificates(LabCA())


def load(issued: IssuedCert | None) -> x509.Certificate:
    assert issued is not None
    return x509.load_pem_x509_certificate(issued.cert_pem)


def dns_names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(san.value.get_values_for_type(x509.DNSName))


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(MxBehaviour.NO_STARTTLS, id="no-starttls"),
        pytest.param(MxBehaviour.REFUSED, id="refused"),
        pytest.param(MxBehaviour.GREETING_421, id="greeting-421"),
    ],
)
def test_mx_behaviours_without_tls_get_no_certificate(
    certs: BehaviourCertificates, behaviour: MxBehaviour
) -> None:
    """Behaviours that never reach a handshake get no certificate."""
    assert certs.for_mx(behaviour, NAMES) is None


@pytest.mark.parametrize(
    ("behaviour", "names", "issuer"),
    [
        pytest.param(MxBehaviour.VALID, set(NAMES), "lab", id="valid"),
        pytest.param(MxBehaviour.TLS_OLD, set(NAMES), "lab", id="tls-old"),
        pytest.param(MxBehaviour.WRONG_NAME, {WRONG_NAME}, "lab", id="wrong-name"),
        pytest.param(MxBehaviour.SELF_SIGNED, set(NAMES), "self", id="self-signed"),
        pytest.param(MxBehaviour.UNTRUSTED_CA, set(NAMES), "untrusted", id="untrusted-ca"),
    ],
)
def test_mx_certificate_names_and_issuer(
    certs: BehaviourCertificates, behaviour: MxBehaviour, names: set[str], issuer: str
) -> None:
    """Each MX behaviour's certificate carries the intended names and comes from the intended CA."""
    cert = load(certs.for_mx(behaviour, NAMES))
    issuers = {
        "lab": certs.ca.cert.subject,
        "self": cert.subject,
        "untrusted": certs.untrusted_ca.cert.subject,
    }
    assert dns_names(cert) == names
    assert cert.issuer == issuers[issuer]


def test_mx_validity_faults(certs: BehaviourCertificates) -> None:
    """Expired certificates ended in the past; not-yet-valid ones start in the future."""
    now = dt.datetime.now(dt.UTC)
    assert load(certs.for_mx(MxBehaviour.EXPIRED, NAMES)).not_valid_after_utc < now
    assert load(certs.for_mx(MxBehaviour.NOT_YET_VALID, NAMES)).not_valid_before_utc > now


@pytest.mark.parametrize(
    ("behaviour", "names"),
    [
        pytest.param(PolicyBehaviour.VALID, {"mta-sts.a.test"}, id="valid"),
        pytest.param(PolicyBehaviour.SLOW, {"mta-sts.a.test"}, id="slow"),
        pytest.param(PolicyBehaviour.WRONG_CERT, {WRONG_NAME}, id="wrong-cert"),
    ],
)
def test_policy_certificate_names(
    certs: BehaviourCertificates, behaviour: PolicyBehaviour, names: set[str]
) -> None:
    """Policy sites get a certificate for their name, except wrong_cert."""
    assert dns_names(load(certs.for_policy(behaviour, ["mta-sts.a.test"]))) == names


def test_no_listener_site_gets_no_certificate(certs: BehaviourCertificates) -> None:
    """A site where nothing listens needs no certificate."""
    assert certs.for_policy(PolicyBehaviour.NO_LISTENER, ["mta-sts.a.test"]) is None


def test_modern_server_context_starts_at_tls_1_2(certs: BehaviourCertificates) -> None:
    """Server contexts for every behaviour but tls_old refuse anything older than TLS 1.2."""
    issued = certs.for_mx(MxBehaviour.VALID, NAMES)
    assert issued is not None
    assert server_context(issued).minimum_version is ssl.TLSVersion.TLSv1_2
